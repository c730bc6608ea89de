using HaMaster.Raft;

namespace HaMaster.Server.Raft;

/// <summary>Sends the core's messages to peers. Must not block: called from the Raft loop thread.</summary>
internal interface IRaftTransport
{
    void Send(IReadOnlyList<Message> messages);
}
