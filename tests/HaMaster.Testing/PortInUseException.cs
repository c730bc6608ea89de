namespace HaMaster.Testing;

/// <summary>
/// A master exited at start because one of its ports was taken ("address already in use"):
/// another program bound a port the harness had chosen before the master could. The cluster
/// retries the start (see <see cref="TestCluster"/>); nothing else catches this.
/// </summary>
public sealed class PortInUseException : Exception
{
    public PortInUseException()
    {
    }

    public PortInUseException(string message)
        : base(message)
    {
    }

    public PortInUseException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Whether a line of a master's output says it could not bind a port.</summary>
    public static bool Says(string line) => line.Contains("address already in use", StringComparison.OrdinalIgnoreCase);
}
