using Microsoft.AspNetCore.Builder;

namespace HaMaster.Server.Hosting;

/// <summary>Creates the ASP.NET Core hosts of a master's ports (client, peer, web).</summary>
internal static class KestrelHost
{
    /// <summary>
    /// A slim web application builder that reads no appsettings.json from, and watches nothing in,
    /// the working directory. The framework's defaults load appsettings.json from the content root
    /// (the working directory) and watch it for changes; on Linux that watch is a recursive
    /// FileSystemWatcher with one inotify watch per directory below the working directory, per
    /// host. A master started in its data directory (the Dockerfile's WORKDIR) woke up on every
    /// RocksDB file write, one started by systemd in / watched the whole machine. A master's
    /// configuration comes from its command line and environment only.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder() =>
        WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
        });
}
