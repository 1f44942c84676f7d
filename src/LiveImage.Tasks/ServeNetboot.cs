using System.Globalization;
using System.Net.Sockets;
using System.Net;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Netboot;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// <c>dotnet build -t:Serve</c>: serves the netboot folder over HTTP (GET, HEAD, byte ranges) until the
/// build is cancelled (Ctrl+C) or <see cref="Seconds"/> have passed. On cancellation it stops
/// listening, closes every connection and returns without an error: stopping is how it is meant
/// to end. Each request is logged at normal importance (<c>-v:n</c>).
/// </summary>
public sealed class ServeNetboot : LiveImageTask
{
    [Required] public string Directory { get; set; } = "";

    /// <summary>The address to listen on; default 127.0.0.1 (qemu's user network reaches it as 10.0.2.2).</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>The port; 0 lets the system pick one (it is logged).</summary>
    public int Port { get; set; } = 8080;

    /// <summary>Stop after this many seconds; 0: serve until cancelled.</summary>
    public int Seconds { get; set; }

    /// <summary>The build's Netboot property: false means there is no netboot folder to serve (LIVE4024).</summary>
    public bool NetbootEnabled { get; set; } = true;

    /// <summary>The architecture, for messages.</summary>
    public string Architecture { get; set; } = "";

    /// <summary>The URL served (with the port really listened on), for the log line and the unit tests.</summary>
    internal string Url { get; private set; } = "";

    protected override void ExecuteCore()
    {
        var directory = Path.GetFullPath(Directory);
        if (!NetbootEnabled || !System.IO.Directory.Exists(directory)) throw new LiveImageException(nameof(Strings.NetbootFolderMissing), directory);
        if (!IPAddress.TryParse(Address, out var address)) throw new LiveImageException(nameof(Strings.ServeFailed), $"{Address}:{Port}", "not an IP address");
        if (Port is < 0 or > 65535) throw new LiveImageException(nameof(Strings.ServeFailed), $"{Address}:{Port}", "not a port number");

        StaticHttpServer server;
        try
        {
            server = StaticHttpServer.Start(directory, address, Port, line => Log.LogMessage(MessageImportance.Normal, "serve: " + line));
        }
        catch (SocketException e)
        {
            throw new LiveImageException(nameof(Strings.ServeFailed), $"{Address}:{Port}", e.Message);
        }
        using (server)
        {
            var host = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
            Url = $"http://{host}:{server.Port.ToString(CultureInfo.InvariantCulture)}/";
            High(nameof(Strings.Serving), directory, Url, Architecture);
            var pxelinux = Path.Combine(directory, "pxelinux.0");
            if (File.Exists(pxelinux) && IPAddress.IsLoopback(address))
            {
                Log.LogMessage(MessageImportance.High,
                    $"  try it: qemu-system-x86_64 -m 2048 -serial mon:stdio -netdev user,id=n0,tftp={directory},bootfile=pxelinux.0 -device virtio-net-pci,netdev=n0,bootindex=0"
                    + (server.Port == 8080 ? "" : $"  (the netboot folder's boot entries name NetbootServer: build with -p:NetbootServer=10.0.2.2:{server.Port})"));
            }
            var limit = Seconds > 0 ? TimeSpan.FromSeconds(Seconds) : Timeout.InfiniteTimeSpan;
            var cancelled = CancellationToken.WaitHandle.WaitOne(limit);
            High(nameof(Strings.ServeStopped), Url, server.RequestCount, cancelled ? "cancelled" : $"after {Seconds} s");
        }
    }
}
