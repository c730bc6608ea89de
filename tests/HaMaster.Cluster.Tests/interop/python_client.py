"""Python grpcio client of every public service of a real HaMaster master.

Usage: /usr/bin/python3 python_client.py HOST:PORT GENERATED_DIR DIRECTORY WORKER_ADDRESS
GENERATED_DIR holds the *_pb2.py modules Debian's protoc generated at test time from protos/
(as hamaster/v1/*_pb2.py) and interop/grpc/health/v1/health.proto (as health_pb2.py: a module
path under grpc/ would clash with the grpc package itself). Calls FileSystemMaster, BlockMaster, ClusterAdmin and
grpc.health.v1.Health through plain unary-unary stubs and prints one JSON object with what it
observed (asserted by PythonInteropTests).
"""
import json
import sys

import grpc

sys.path.insert(0, sys.argv[2])
from hamaster.v1 import block_master_pb2 as blocks  # noqa: E402
from hamaster.v1 import cluster_admin_pb2 as admin  # noqa: E402
from hamaster.v1 import filesystem_pb2 as fs  # noqa: E402
import health_pb2 as health  # noqa: E402

TIMEOUT = 20


def unary(channel, path, req_type, resp_type):
    return channel.unary_unary(path, request_serializer=req_type.SerializeToString,
                               response_deserializer=resp_type.FromString)


def call(stub, request):
    """{code, details, trailers, reply} of one call; never raises."""
    try:
        reply, c = stub.with_call(request, timeout=TIMEOUT)
        return {"code": 0, "reply": reply, "trailers": dict(c.trailing_metadata() or ())}
    except grpc.RpcError as e:
        return {"code": e.code().value[0], "details": e.details(),
                "trailers": dict(e.trailing_metadata() or ())}


def main():
    target, _, directory, worker_address = sys.argv[1:5]
    out = {}
    with grpc.insecure_channel(target) as channel:
        fsm = "/hamaster.v1.FileSystemMaster/"
        mkdir = call(unary(channel, fsm + "CreateDirectory", fs.CreateDirectoryRequest, fs.CreateDirectoryResponse),
                     fs.CreateDirectoryRequest(path=directory, recursive=True))
        out["mkdir"] = {"code": mkdir["code"], "path": mkdir["reply"].info.path if mkdir["code"] == 0 else None,
                        "leader": mkdir["trailers"].get("hamaster-leader")}
        create = unary(channel, fsm + "CreateFile", fs.CreateFileRequest, fs.CreateFileResponse)
        out["create"] = call(create, fs.CreateFileRequest(path=directory + "/py-file"))["code"]
        duplicate = call(create, fs.CreateFileRequest(path=directory + "/py-file"))
        out["duplicate"] = {"code": duplicate["code"], "details": duplicate.get("details")}
        listing = call(unary(channel, fsm + "ListStatus", fs.ListStatusRequest, fs.ListStatusResponse),
                       fs.ListStatusRequest(path=directory))
        out["list"] = [e.name for e in listing["reply"].entries] if listing["code"] == 0 else listing
        missing = call(unary(channel, fsm + "GetStatus", fs.GetStatusRequest, fs.GetStatusResponse),
                       fs.GetStatusRequest(path=directory + "/no-such-file"))
        out["missing"] = missing["code"]

        bm = "/hamaster.v1.BlockMaster/"
        register = call(unary(channel, bm + "RegisterWorker", blocks.RegisterWorkerRequest, blocks.RegisterWorkerResponse),
                        blocks.RegisterWorkerRequest(address=worker_address))
        out["register"] = {"code": register["code"], "worker_id": register["reply"].worker_id if register["code"] == 0 else 0}
        workers = call(unary(channel, bm + "GetWorkerInfoList", blocks.GetWorkerInfoListRequest, blocks.GetWorkerInfoListResponse),
                       blocks.GetWorkerInfoListRequest())
        out["workers"] = [w.address for w in workers["reply"].workers] if workers["code"] == 0 else workers

        cluster = call(unary(channel, "/hamaster.v1.ClusterAdmin/GetClusterInfo", admin.GetClusterInfoRequest, admin.GetClusterInfoResponse),
                       admin.GetClusterInfoRequest())
        out["cluster"] = {"code": cluster["code"], "leader_id": cluster["reply"].leader_id if cluster["code"] == 0 else 0,
                          "members": len(cluster["reply"].members) if cluster["code"] == 0 else 0}

        check = call(unary(channel, "/grpc.health.v1.Health/Check", health.HealthCheckRequest, health.HealthCheckResponse),
                     health.HealthCheckRequest(service=""))
        out["health"] = health.HealthCheckResponse.ServingStatus.Name(check["reply"].status) if check["code"] == 0 else check["code"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
