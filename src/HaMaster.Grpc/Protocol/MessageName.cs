using System.Reflection;
using Google.Protobuf.Reflection;

namespace HaMaster.Grpc.Protocol;

/// <summary>The protobuf full name of a generated message type (e.g. "pkg.EchoRequest"), resolved once per type.</summary>
internal static class MessageName<T>
{
    public static readonly string Value = Resolve();

    private static string Resolve()
    {
        var property = typeof(T).GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static);
        return property?.GetValue(null) is MessageDescriptor descriptor ? descriptor.FullName : typeof(T).Name;
    }
}
