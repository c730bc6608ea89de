using System.CommandLine;
using System.Globalization;
using HaMaster.Client;
using HaMaster.Protos.V1;

namespace HaMaster.Cli;

// `hamaster cluster ...`: membership, leadership and snapshots.
public sealed partial class HamasterCommandLine
{
    private Command BuildClusterCommand()
    {
        var cluster = new Command("cluster", "Cluster membership and operations");

        var status = new Command("status", "Show every master: addresses, role, voter, term, log indexes (leader marked *); exit 6 while there is no leader");
        status.SetAction(WithClient(async (r, client, ct) =>
        {
            var info = await client.GetClusterInfoAsync(ct).ConfigureAwait(false);
            await WriteClusterAsync(r, info).ConfigureAwait(false);
            // Scripts waiting for a usable cluster can loop on this exit code.
            return info.LeaderId == 0 ? ExitCodes.Unavailable : ExitCodes.Ok;
        }));

        var addId = new Argument<ulong>("ID") { Description = "Node id of the new master" };
        var clientAddress = new Argument<string>("CLIENT_ADDR") { Description = "host:port of its client endpoint" };
        var peerAddress = new Argument<string>("PEER_ADDR") { Description = "host:port of its peer (Raft) endpoint" };
        var learner = new Option<bool>("--learner") { Description = "Return once it is a learner; do not wait for promotion to voter" };
        var web = new Option<string?>("--web") { Description = "host:port of its status page" };
        var add = new Command("add", "Add a master (learner, snapshot, then voter)") { addId, clientAddress, peerAddress, learner, web };
        add.SetAction(WithClient(async (r, client, ct) =>
        {
            var request = new AddMasterRequest
            {
                Id = r.GetValue(addId),
                ClientAddress = MasterEndpoint.Normalize(r.GetRequiredValue(clientAddress)),
                PeerAddress = MasterEndpoint.Normalize(r.GetRequiredValue(peerAddress)),
                WebAddress = r.GetValue(web) ?? string.Empty,
                LearnerOnly = r.GetValue(learner),
            };
            var info = await client.AddMasterAsync(request, ct).ConfigureAwait(false);
            if (!Json(r))
            {
                await _out.WriteLineAsync($"added master {request.Id}").ConfigureAwait(false);
            }

            await WriteClusterAsync(r, info).ConfigureAwait(false);
            return ExitCodes.Ok;
        }));

        var removeId = new Argument<ulong>("ID") { Description = "Node id of the master to remove" };
        var remove = new Command("remove", "Remove a master (refused if no quorum would remain)") { removeId };
        remove.SetAction(WithClient(async (r, client, ct) =>
        {
            var info = await client.RemoveMasterAsync(r.GetValue(removeId), ct).ConfigureAwait(false);
            if (!Json(r))
            {
                await _out.WriteLineAsync($"removed master {r.GetValue(removeId)}").ConfigureAwait(false);
            }

            await WriteClusterAsync(r, info).ConfigureAwait(false);
            return ExitCodes.Ok;
        }));

        var target = new Argument<ulong>("ID") { Description = "Target node id (default: the most caught-up voter)", Arity = ArgumentArity.ZeroOrOne };
        var transfer = new Command("transfer-leader", "Move leadership and wait until the target leads") { target };
        transfer.SetAction(WithClient(async (r, client, ct) =>
        {
            var leader = await client.TransferLeadershipAsync(r.GetValue(target), ct).ConfigureAwait(false);
            await _out.WriteLineAsync(Json(r) ? $"{{\"leaderId\":{leader}}}" : $"leader is now master {leader}").ConfigureAwait(false);
            return ExitCodes.Ok;
        }));

        var snapshot = new Command("snapshot", "Take a snapshot now and compact the log behind it");
        snapshot.SetAction(WithClient(async (r, client, ct) =>
        {
            var taken = await client.TakeSnapshotAsync(ct).ConfigureAwait(false);
            await _out.WriteLineAsync(Json(r)
                ? ProtoJson.Format(taken)
                : $"snapshot at index {taken.SnapshotIndex} (term {taken.SnapshotTerm}), {taken.SizeBytes} bytes").ConfigureAwait(false);
            return ExitCodes.Ok;
        }));

        cluster.Add(status);
        cluster.Add(add);
        cluster.Add(remove);
        cluster.Add(transfer);
        cluster.Add(snapshot);
        var backups = new BackupCommands(_flags, _out, _err);
        cluster.Add(backups.BuildBackupCommand());
        cluster.Add(backups.BuildRestoreCommand());
        return cluster;
    }

    private async Task WriteClusterAsync(ParseResult result, GetClusterInfoResponse info)
    {
        if (Json(result))
        {
            await _out.WriteLineAsync(ProtoJson.Format(info)).ConfigureAwait(false);
            return;
        }

        var leader = info.LeaderId == 0 ? "none (election under way)" : $"{info.LeaderId} at {info.LeaderAddress}";
        await _out.WriteLineAsync($"leader: {leader}, term {info.Term}, answered by master {info.AnsweredBy}").ConfigureAwait(false);
        var table = new TextTable("ID", "CLIENT", "PEER", "ROLE", "VOTER", "TERM", "LAST", "COMMIT", "APPLIED", "SNAPSHOT");
        foreach (var m in info.Members.OrderBy(m => m.Id))
        {
            var id = m.Id.ToString(CultureInfo.InvariantCulture) + (m.Id == info.LeaderId ? "*" : string.Empty);
            table.AddRow(id, m.ClientAddress, m.PeerAddress, RoleName(m.Role), m.Voter ? "yes" : "no",
                Invariant(m.Term), Invariant(m.LastLogIndex), Invariant(m.CommitIndex), Invariant(m.AppliedIndex), Invariant(m.SnapshotIndex));
        }

        table.WriteTo(_out);
    }

    private static string RoleName(MasterRole role) => role switch
    {
        MasterRole.Leader => "leader",
        MasterRole.Follower => "follower",
        MasterRole.Candidate => "candidate",
        MasterRole.Learner => "learner",
        MasterRole.Unreachable => "unreachable",
        _ => "unknown",
    };
}
