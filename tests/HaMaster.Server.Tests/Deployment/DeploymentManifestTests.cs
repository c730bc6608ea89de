using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using HaMaster.Server.Configuration;
using HaMaster.Server.Tests.Configuration;
using static HaMaster.Server.Tests.Deployment.DeploymentFiles;

namespace HaMaster.Server.Tests.Deployment;

/// <summary>
/// Issue 9: every manifest and the compose file parse, and reference the same ports and settings
/// the server actually uses. Settings are checked by feeding them through <see cref="MasterConfiguration"/>
/// as HAMASTER_ variables (hence the non-parallel collection).
/// </summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class DeploymentManifestTests
{
    private const string DockerfilePath = "deploy/Dockerfile";
    private const string ComposePath = "docker-compose.yml";
    private const string KubernetesPath = "deploy/k8s/hamaster.yaml";
    private const string SystemdPath = "deploy/systemd/hamaster.service";
    private static readonly MasterOptions Defaults = new();

    /// <summary>Stands in for the secret files the manifests mount (they exist only where deployed).</summary>
    private static readonly Lazy<string> TestSecretFile = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"hamaster-deploy-test-secret-{Environment.ProcessId}");
        File.WriteAllText(path, "deployment-test-cluster-secret\n");
        return path;
    });

    [Fact]
    public void Default_ports_are_the_documented_ones()
    {
        Assert.Equal((19200, 19300, 19400), (Defaults.ClientPort, Defaults.PeerPort, Defaults.WebPort));
    }

    [Fact]
    public void Every_variable_mentioned_in_the_deployment_files_is_read_by_the_server()
    {
        var unknown = new List<string>();
        var checkedKeys = 0;
        foreach (var file in new[] { DockerfilePath, ComposePath, KubernetesPath, SystemdPath })
        {
            foreach (var key in VariablesMentioned(Text(file)))
            {
                checkedKeys++;
                if (!IsReadKey(key)) unknown.Add($"{file}: HAMASTER_{key}");
            }
        }

        Assert.True(checkedKeys >= 8, $"only {checkedKeys} variables found: is the parsing broken?");
        Assert.True(unknown.Count == 0, "variables the server does not read: " + string.Join("; ", unknown));
    }

    [Fact]
    public void The_probe_is_not_fooled_by_unknown_or_misspelled_keys()
    {
        Assert.True(IsReadKey("NodeId"));
        Assert.True(IsReadKey("InitialMembers"));
        Assert.True(IsReadKey("Join"));
        Assert.True(IsReadKey("Metastore"));
        Assert.True(IsReadKey("AdvertisedPeerAddress"));
        Assert.False(IsReadKey("NodeID_")); // misspelled
        Assert.False(IsReadKey("DataDir")); // a flag's name, not a key
        Assert.False(IsReadKey("LOG_LEVEL"));
    }

    // ---- Dockerfile ----

    private static List<(string Instruction, string Arguments)> DockerInstructions()
    {
        var logical = Regex.Replace(Text(DockerfilePath), @"\\\r?\n", " ");
        return logical.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(' ', 2))
            .Select(p => (p[0].ToUpperInvariant(), p.Length > 1 ? p[1].Trim() : ""))
            .ToList();
    }

    [Fact]
    public void Dockerfile_exposes_the_three_ports_and_checks_health_on_the_web_port()
    {
        var instructions = DockerInstructions();
        var exposed = instructions.Where(i => i.Instruction == "EXPOSE").SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(int.Parse).ToHashSet();
        Assert.Equal(new HashSet<int> { Defaults.ClientPort, Defaults.PeerPort, Defaults.WebPort }, exposed);

        var health = Assert.Single(instructions, i => i.Instruction == "HEALTHCHECK").Arguments;
        Assert.Contains($"http://127.0.0.1:{Defaults.WebPort}/healthz", health, StringComparison.Ordinal);
    }

    [Fact]
    public void Dockerfile_environment_loads_and_binds_all_interfaces()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (_, args) in DockerInstructions().Where(i => i.Instruction == "ENV"))
        {
            foreach (Match m in Regex.Matches(args, @"(\w+)=(""[^""]*""|\S+)")) env[m.Groups[1].Value] = m.Groups[2].Value.Trim('"');
        }

        Assert.Equal("0.0.0.0", env["HAMASTER_BindAddress"]); // 127.0.0.1 (the default) is unreachable from outside a container
        var o = LoadWith(env);
        Assert.Equal("0.0.0.0", o.BindAddress);
        var volume = DockerInstructions().Single(i => i.Instruction == "VOLUME").Arguments;
        var volumePath = JsonSerializer.Deserialize<string[]>(volume)!.Single();
        Assert.StartsWith(volumePath + "/", o.DataDirectory, StringComparison.Ordinal);
    }

    [Fact]
    public void Dockerfile_runs_the_server_assembly_as_a_non_root_user()
    {
        var instructions = DockerInstructions();
        var entry = JsonSerializer.Deserialize<string[]>(instructions.Single(i => i.Instruction == "ENTRYPOINT").Arguments)!;
        Assert.Equal("dotnet", entry[0]);
        Assert.Equal(typeof(MasterOptions).Assembly.GetName().Name + ".dll", Path.GetFileName(entry[1]));
        var user = instructions.Last(i => i.Instruction == "USER").Arguments;
        Assert.NotEqual("root", user);
        Assert.NotEqual("0", user);

        // The projects it publishes exist.
        foreach (Match m in Regex.Matches(string.Join("\n", instructions.Where(i => i.Instruction == "RUN").Select(i => i.Arguments)), @"dotnet publish (\S+\.csproj)"))
        {
            Assert.True(File.Exists(PathOf(m.Groups[1].Value)), $"Dockerfile publishes {m.Groups[1].Value}, which does not exist");
        }
    }

    [Fact]
    public void Dockerfile_takes_rocksdb_from_the_nuget_package_for_the_published_runtime()
    {
        var instructions = DockerInstructions();
        var froms = instructions.Where(i => i.Instruction == "FROM").Select(i => i.Arguments).ToList();
        Assert.True(froms.Count >= 2, "expected a multi-stage build");

        // No distribution RocksDB: the RocksDB NuGet package ships librocksdb.so (runtimes/<rid>/native).
        var runs = string.Join(" ", instructions.Where(i => i.Instruction == "RUN").Select(i => i.Arguments));
        Assert.DoesNotMatch(@"\blibrocksdb", runs);
        Assert.Matches(@"<PackageVersion Include=""RocksDB"" Version=""[0-9.]+"" />", Text("Directory.Packages.props"));

        // Every publish names a runtime identifier the package has a native library for.
        var rid = Regex.Match(string.Join("\n", instructions.Where(i => i.Instruction == "ARG").Select(i => i.Arguments)), @"\bRID=(\S+)");
        Assert.True(rid.Success, "the build stage must declare ARG RID=<runtime identifier>");
        Assert.Contains(rid.Groups[1].Value, new[] { "linux-x64", "linux-arm64" });
        var publishes = Regex.Matches(runs, @"dotnet publish \S+\.csproj[^&]*");
        Assert.NotEmpty(publishes);
        Assert.All(publishes, m => Assert.Contains("-r $RID", m.Value, StringComparison.Ordinal));
    }

    // ---- docker-compose.yml ----

    [Fact]
    public void Compose_masters_agree_with_each_other_and_with_the_server()
    {
        var compose = Assert.Single(Yaml(ComposePath));
        var services = compose.Req("services", ComposePath).EnumerateObject().ToList();
        Assert.True(services.Count >= 3 && services.Count % 2 == 1, $"expected an odd number (>= 3) of masters, found {services.Count}");
        var volumes = compose.Req("volumes", ComposePath).EnumerateObject().Select(v => v.Name).ToHashSet();
        var hostPorts = new HashSet<string>(StringComparer.Ordinal);
        var ids = new HashSet<ulong>();
        var loaded = new List<(string Host, MasterOptions Options)>();
        foreach (var service in services)
        {
            var where = $"{ComposePath} services.{service.Name}";
            var env = service.Value.Req("environment", where).EnumerateObject().ToDictionary(p => p.Name, p => Scalar(p.Value), StringComparer.Ordinal);

            // The masters bind 0.0.0.0: the cluster secret comes from a declared Compose secret.
            var secretFile = env["HAMASTER_ClusterSecretFile"];
            Assert.StartsWith("/run/secrets/", secretFile, StringComparison.Ordinal);
            var secretName = secretFile["/run/secrets/".Length..];
            Assert.Contains(secretName, service.Value.Req("secrets", where).EnumerateArray().Select(e => e.GetString()));
            Assert.True(compose.Req("secrets", ComposePath).Req(secretName, ComposePath).Prop("file") is not null, $"secret {secretName} must be declared with a file");
            env["HAMASTER_ClusterSecretFile"] = TestSecretFile.Value;
            var o = LoadWith(env).Validate();
            Assert.True(ids.Add(o.NodeId), $"{where}: NodeId {o.NodeId} used twice");
            Assert.Equal((Defaults.ClientPort, Defaults.PeerPort, Defaults.WebPort), (o.ClientPort, o.PeerPort, o.WebPort));
            Assert.Equal("0.0.0.0", o.BindAddress);
            var host = service.Value.Prop("hostname") is { } h ? h.GetString()! : service.Name;
            loaded.Add((host, o));

            // Published ports: container side is the client or web port; host sides are distinct.
            var published = service.Value.Req("ports", where).EnumerateArray().Select(p => p.GetString()!.Split(':')).ToList();
            Assert.All(published, p => Assert.True(p.Length == 2 && hostPorts.Add(p[0]), $"{where}: port mapping {string.Join(":", p)} (host ports must be unique)"));
            var containerPorts = published.Select(p => int.Parse(p[1], CultureInfo.InvariantCulture)).ToHashSet();
            Assert.Equal(new HashSet<int> { o.ClientPort, WebPortOf(o) }, containerPorts);

            // Data lives on a named volume that is declared.
            var mounts = service.Value.Req("volumes", where).EnumerateArray().Select(v => v.GetString()!.Split(':')).ToList();
            Assert.Contains(mounts, m => volumes.Contains(m[0]) && o.DataDirectory.StartsWith(m[1] + "/", StringComparison.Ordinal));
        }

        foreach (var (host, o) in loaded)
        {
            Assert.Equal(Enumerable.Range(1, services.Count).Select(i => (ulong)i), o.InitialMembers.Select(m => m.Id).Order());
            var self = o.InitialMembers.Single(m => m.Id == o.NodeId);
            Assert.Equal(self.ClientAddress, o.ClientAddress);
            Assert.Equal(self.PeerAddress, o.PeerAddress);
            Assert.Equal((host, o.ClientPort), HostPort(self.ClientAddress));
            Assert.Equal((host, o.PeerPort), HostPort(self.PeerAddress));
            Assert.Equal((host, o.WebPort), HostPort(self.WebAddress));
            Assert.Equal(Describe(loaded[0].Options with { NodeId = 0 }).Split('\n').Single(l => l.StartsWith("InitialMembers=", StringComparison.Ordinal)),
                Describe(o).Split('\n').Single(l => l.StartsWith("InitialMembers=", StringComparison.Ordinal)));
        }
    }

    private static int WebPortOf(MasterOptions o) => o.WebPort;

    // ---- Kubernetes ----

    private static JsonElement Kind(IReadOnlyList<JsonElement> docs, string kind, string? name = null) =>
        Assert.Single(docs, d => d.Prop("kind")?.GetString() == kind && (name is null || d.Req("metadata", kind).Req("name", kind).GetString() == name));

    [Fact]
    public void Kubernetes_has_a_statefulset_headless_service_client_service_and_pdb()
    {
        var docs = Yaml(KubernetesPath);
        var sts = Kind(docs, "StatefulSet");
        var spec = sts.Req("spec", "StatefulSet");
        var podLabels = spec.Req("template", "sts").Req("metadata", "template").Req("labels", "template").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        bool Selects(JsonElement selector) => selector.EnumerateObject().All(p => podLabels.TryGetValue(p.Name, out var v) && v == p.Value.GetString());

        Assert.True(Selects(spec.Req("selector", "sts").Req("matchLabels", "sts.selector")));
        var headless = Kind(docs, "Service", spec.Req("serviceName", "sts").GetString());
        Assert.Equal("None", headless.Req("spec", "svc").Req("clusterIP", "headless service").GetString());
        // Masters must find each other before any is ready (/readyz needs a leader, which needs peers).
        Assert.True(headless.Req("spec", "svc").Prop("publishNotReadyAddresses")?.GetBoolean() == true, "the headless Service must set publishNotReadyAddresses: true");
        Assert.True(Selects(headless.Req("spec", "svc").Req("selector", "svc")));

        var pdb = Kind(docs, "PodDisruptionBudget");
        Assert.Equal(1, pdb.Req("spec", "pdb").Req("maxUnavailable", "pdb").GetInt32());
        Assert.True(Selects(pdb.Req("spec", "pdb").Req("selector", "pdb").Req("matchLabels", "pdb")));

        var container = Assert.Single(spec.Req("template", "sts").Req("spec", "pod").Req("containers", "pod").EnumerateArray());
        var ports = container.Req("ports", "container").EnumerateArray().ToDictionary(p => p.Req("name", "port").GetString()!, p => p.Req("containerPort", "port").GetInt32());
        Assert.Equal(new Dictionary<string, int> { ["client"] = Defaults.ClientPort, ["peer"] = Defaults.PeerPort, ["web"] = Defaults.WebPort }, ports);

        var readiness = container.Req("readinessProbe", "container").Req("httpGet", "readinessProbe");
        Assert.Equal("/readyz", readiness.Req("path", "readinessProbe").GetString());
        Assert.Equal(Defaults.WebPort, readiness.Req("port", "readinessProbe").GetInt32());
        var liveness = container.Req("livenessProbe", "container").Req("httpGet", "livenessProbe");
        Assert.Equal("/healthz", liveness.Req("path", "livenessProbe").GetString());
        Assert.Equal(Defaults.WebPort, liveness.Req("port", "livenessProbe").GetInt32());

        // Every Service port targets a container port of the same name.
        foreach (var service in docs.Where(d => d.Prop("kind")?.GetString() == "Service"))
        {
            Assert.True(Selects(service.Req("spec", "svc").Req("selector", "svc")));
            foreach (var p in service.Req("spec", "svc").Req("ports", "svc").EnumerateArray())
            {
                var name = p.Req("name", "svc port").GetString()!;
                Assert.True(ports.TryGetValue(name, out var containerPort), $"Service port {name} has no container port");
                Assert.Equal(containerPort, p.Req("targetPort", "svc port").GetInt32());
                Assert.Equal(containerPort, p.Req("port", "svc port").GetInt32());
            }
        }

        // Data directory on the claimed volume.
        var claim = Assert.Single(spec.Req("volumeClaimTemplates", "sts").EnumerateArray()).Req("metadata", "claim").Req("name", "claim").GetString();
        var mount = Assert.Single(container.Req("volumeMounts", "container").EnumerateArray(), m => m.Req("name", "mount").GetString() == claim).Req("mountPath", "mount").GetString();
        var dataDir = container.Req("env", "container").EnumerateArray().Single(e => e.Req("name", "env").GetString() == "HAMASTER_DataDirectory").Req("value", "env").GetString()!;
        Assert.StartsWith(mount + "/", dataDir, StringComparison.Ordinal);
    }

    [Fact]
    public void Kubernetes_pods_each_load_a_valid_configuration_naming_themselves()
    {
        var docs = Yaml(KubernetesPath);
        var sts = Kind(docs, "StatefulSet");
        var name = sts.Req("metadata", "sts").Req("name", "sts").GetString()!;
        var spec = sts.Req("spec", "sts");
        var serviceName = spec.Req("serviceName", "sts").GetString()!;
        var replicas = spec.Req("replicas", "sts").GetInt32();
        Assert.True(replicas >= 3 && replicas % 2 == 1, $"replicas {replicas}: expected an odd number >= 3");
        var container = Assert.Single(spec.Req("template", "sts").Req("spec", "pod").Req("containers", "pod").EnumerateArray());
        var env = container.Req("env", "container").EnumerateArray().ToDictionary(e => e.Req("name", "env").GetString()!, e => e.Req("value", "env").GetString()!, StringComparer.Ordinal);
        var command = container.Req("command", "container").EnumerateArray().Select(c => c.GetString()!).ToArray();
        var script = Assert.Single(container.Req("args", "container").EnumerateArray()).GetString()!;
        Assert.Equal(["/bin/sh", "-c"], command);
        Assert.Contains("exec dotnet /opt/hamaster/server/" + typeof(MasterOptions).Assembly.GetName().Name + ".dll", script, StringComparison.Ordinal);

        var ids = new HashSet<ulong>();
        for (var ordinal = 0; ordinal < replicas; ordinal++)
        {
            var pod = $"{name}-{ordinal}";
            var variables = PodEnvironment(script, env, pod);

            // The masters bind 0.0.0.0: the cluster secret file lies on a volume of a Kubernetes Secret.
            var secretFile = variables["HAMASTER_ClusterSecretFile"];
            var secretMount = Assert.Single(container.Req("volumeMounts", "container").EnumerateArray(), m => secretFile.StartsWith(m.Req("mountPath", "mount").GetString() + "/", StringComparison.Ordinal));
            var secretVolume = Assert.Single(spec.Req("template", "sts").Req("spec", "pod").Req("volumes", "pod").EnumerateArray(), v => v.Req("name", "volume").GetString() == secretMount.Req("name", "mount").GetString());
            Assert.NotNull(secretVolume.Req("secret", "volume").Req("secretName", "secret volume").GetString());
            variables["HAMASTER_ClusterSecretFile"] = TestSecretFile.Value;
            var o = LoadWith(variables).Validate();
            Assert.True(ids.Add(o.NodeId));
            Assert.Equal((ulong)ordinal + 1, o.NodeId);
            Assert.Equal(replicas, o.InitialMembers.Count);
            Assert.Equal(Enumerable.Range(1, replicas).Select(i => (ulong)i), o.InitialMembers.Select(m => m.Id).Order());
            var self = o.InitialMembers.Single(m => m.Id == o.NodeId);
            var host = $"{pod}.{serviceName}";
            Assert.Equal((host, Defaults.ClientPort), HostPort(self.ClientAddress));
            Assert.Equal((host, Defaults.PeerPort), HostPort(self.PeerAddress));
            Assert.Equal((host, Defaults.WebPort), HostPort(self.WebAddress));
            Assert.Equal(self.ClientAddress, o.ClientAddress);
            Assert.Equal(self.PeerAddress, o.PeerAddress);
            Assert.Equal((Defaults.ClientPort, Defaults.PeerPort, Defaults.WebPort), (o.ClientPort, o.PeerPort, o.WebPort));
            Assert.Equal("0.0.0.0", o.BindAddress);
        }
    }

    /// <summary>
    /// The HAMASTER_ variables the container's start script gives the server in pod <paramref name="pod"/>:
    /// the script runs in /bin/sh with HOSTNAME set, and its final exec replaced by printing the environment.
    /// </summary>
    private static Dictionary<string, string> PodEnvironment(string script, Dictionary<string, string> env, string pod)
    {
        var exec = script.LastIndexOf("exec ", StringComparison.Ordinal);
        Assert.True(exec >= 0, "the container script must end by exec'ing the server");
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script[..exec] + " env");
        start.Environment.Clear();
        start.Environment["PATH"] = "/usr/bin:/bin";
        start.Environment["HOSTNAME"] = pod;
        foreach (var (k, v) in env) start.Environment[k] = v;
        var (code, stdout, stderr) = Run(start);
        Assert.True(code == 0, $"container script failed in {pod}: {stderr}");
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith("HAMASTER_", StringComparison.Ordinal))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
    }

    // ---- systemd ----

    [Fact]
    public void Systemd_unit_sets_known_settings_and_runs_the_same_binary_as_the_image()
    {
        var lines = Text(SystemdPath).Split('\n').Select(l => l.Trim()).ToList();
        Assert.Contains("[Service]", lines);
        var env = lines.Where(l => l.StartsWith("Environment=", StringComparison.Ordinal))
            .Select(l => l["Environment=".Length..].Trim('"').Split('=', 2))
            .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        var o = LoadWith(env);
        Assert.Equal((Defaults.ClientPort, Defaults.PeerPort, Defaults.WebPort), (o.ClientPort, o.PeerPort, o.WebPort));
        Assert.True(env.ContainsKey("HAMASTER_DataDirectory"));
        var readWrite = lines.Single(l => l.StartsWith("ReadWritePaths=", StringComparison.Ordinal))["ReadWritePaths=".Length..];
        Assert.StartsWith(readWrite + "/", o.DataDirectory, StringComparison.Ordinal);
        Assert.Equal("0.0.0.0", o.BindAddress); // peers on other hosts must reach it; the EnvironmentFile may narrow it

        // ... so the cluster secret comes in as a systemd credential.
        var credential = lines.Single(l => l.StartsWith("LoadCredential=", StringComparison.Ordinal))["LoadCredential=".Length..].Split(':', 2);
        Assert.Contains($"--cluster-secret-file ${{CREDENTIALS_DIRECTORY}}/{credential[0]}", lines.Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal)), StringComparison.Ordinal);

        var exec = lines.Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal))["ExecStart=".Length..].Split(' ');
        var image = JsonSerializer.Deserialize<string[]>(DockerInstructions().Single(i => i.Instruction == "ENTRYPOINT").Arguments)!;
        Assert.Equal("dotnet", Path.GetFileName(exec[0]));
        Assert.Equal(image[1], exec[1]);
        Assert.Contains(lines, l => l.StartsWith("EnvironmentFile=", StringComparison.Ordinal));
        Assert.Contains("User=hamaster", lines);
    }

    // ---- the web endpoint ----

    [Fact]
    public void Probe_paths_are_served_by_the_web_endpoint()
    {
        var source = Text("src/HaMaster.Server/Hosting/WebEndpoint.cs");
        foreach (var path in new[] { "/readyz", "/healthz", "/metrics" })
        {
            Assert.Contains($"MapGet(\"{path}\"", source, StringComparison.Ordinal);
        }

        Assert.Contains("/readyz", Text(KubernetesPath), StringComparison.Ordinal);
        Assert.Contains("/healthz", Text(DockerfilePath), StringComparison.Ordinal);
    }
}
