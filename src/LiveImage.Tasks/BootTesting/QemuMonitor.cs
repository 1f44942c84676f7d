using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace LiveImage.Tasks.BootTesting;

/// <summary>
/// Talks to a running qemu over its QMP socket (<c>-qmp unix:PATH,server=on,wait=off</c>) for the
/// one thing the boot test needs from it: a screenshot of the guest's screen. Every read has a
/// time limit; a qemu that does not answer makes the screenshot fail, never the boot test hang.
/// </summary>
internal static class QemuMonitor
{
    /// <summary>
    /// The qemu arguments for a QMP socket at <paramref name="socketPath"/>: qemu creates it at
    /// start-up and does not wait for a client.
    /// </summary>
    public static IReadOnlyList<string> Arguments(string socketPath) =>
        ["-qmp", $"unix:{QemuCommandLine.Escape(socketPath)},server=on,wait=off"];

    /// <summary>The longest path a unix socket can have (sun_path is 108 bytes with its terminating zero).</summary>
    public const int MaxSocketPath = 107;

    /// <summary>
    /// A socket path in <paramref name="preferredDirectory"/>, or in the system's temporary directory
    /// when that path would be too long for a unix socket.
    /// </summary>
    public static string SocketPath(string preferredDirectory, string name)
    {
        var preferred = Path.Combine(Path.GetFullPath(preferredDirectory), name);
        if (Encoding.UTF8.GetByteCount(preferred) <= MaxSocketPath) return preferred;
        return Path.Combine(Path.GetTempPath(), $"liveimage-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}.qmp");
    }

    /// <summary>
    /// Writes a PNG screenshot to <paramref name="pngPath"/> (qemu 7.1 and later). An older qemu
    /// cannot write PNG: then a PPM is written beside it. Returns the file written, or throws
    /// <see cref="IOException"/> saying why not.
    /// </summary>
    public static string Screendump(string socketPath, string pngPath, TimeSpan timeout)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
        {
            ReceiveTimeout = (int)timeout.TotalMilliseconds,
            SendTimeout = (int)timeout.TotalMilliseconds,
        };
        try
        {
            var connect = socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
            if (!connect.Wait(timeout)) throw new IOException($"qemu's QMP socket {socketPath} did not accept a connection within {timeout.TotalSeconds:0} s");
        }
        catch (AggregateException e)
        {
            throw new IOException($"cannot connect to qemu's QMP socket {socketPath}: {e.InnerException?.Message ?? e.Message}", e.InnerException ?? e);
        }
        using var stream = new NetworkStream(socket, ownsSocket: false);
        using var reader = new StreamReader(stream, new UTF8Encoding(false));
        using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
        var deadline = DateTime.UtcNow + timeout;

        ReadUntil(reader, "QMP", deadline); // the greeting
        Execute(reader, writer, deadline, """{"execute":"qmp_capabilities"}""");
        // a small pointer move first: a desktop that blanked its screen while the checks ran (or has
        // not drawn its first frame yet under TCG) shows itself; a text console ignores it
        if (Execute(reader, writer, deadline, WakeCommand) is null) Thread.Sleep(WakeDelay);
        File.Delete(pngPath);
        var error = Execute(reader, writer, deadline, Command(pngPath, "png"));
        if (error is null) return pngPath;
        if (!error.Contains("format", StringComparison.OrdinalIgnoreCase)) throw new IOException("qemu could not take a screenshot: " + error);
        var ppm = Path.ChangeExtension(pngPath, ".ppm");
        File.Delete(ppm);
        error = Execute(reader, writer, deadline, Command(ppm, null));
        if (error is not null) throw new IOException("qemu could not take a screenshot: " + error);
        return ppm;
    }

    /// <summary>A relative pointer move of a few pixels (QMP input-send-event).</summary>
    internal const string WakeCommand =
        """{"execute":"input-send-event","arguments":{"events":[{"type":"rel","data":{"axis":"x","value":8}},{"type":"rel","data":{"axis":"y","value":8}}]}}""";

    /// <summary>How long the guest gets to redraw after the pointer move.</summary>
    internal static readonly TimeSpan WakeDelay = TimeSpan.FromSeconds(3);

    /// <summary>The QMP screendump command (format omitted: qemu's default, PPM).</summary>
    internal static string Command(string file, string? format)
    {
        var arguments = new Dictionary<string, string> { ["filename"] = file };
        if (format is not null) arguments["format"] = format;
        return JsonSerializer.Serialize(new Dictionary<string, object> { ["execute"] = "screendump", ["arguments"] = arguments });
    }

    /// <summary>Sends one command and reads until its answer: null on success, the error's description otherwise.</summary>
    private static string? Execute(StreamReader reader, StreamWriter writer, DateTime deadline, string command)
    {
        writer.WriteLine(command);
        while (true)
        {
            using var answer = ReadUntil(reader, null, deadline);
            var root = answer.RootElement;
            if (root.TryGetProperty("return", out _)) return null;
            if (root.TryGetProperty("error", out var error))
                return error.TryGetProperty("desc", out var desc) ? desc.GetString() ?? error.ToString() : error.ToString();
            // an asynchronous event: keep reading
        }
    }

    private static JsonDocument ReadUntil(StreamReader reader, string? property, DateTime deadline)
    {
        while (true)
        {
            if (DateTime.UtcNow > deadline) throw new IOException("qemu's QMP socket did not answer in time");
            string? line;
            try
            {
                line = reader.ReadLine();
            }
            catch (IOException e)
            {
                throw new IOException("qemu's QMP socket did not answer: " + e.Message, e);
            }
            if (line is null) throw new IOException("qemu closed its QMP socket");
            if (line.Trim().Length == 0) continue;
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line);
            }
            catch (JsonException)
            {
                continue;
            }
            if (property is null || document.RootElement.TryGetProperty(property, out _)) return document;
            document.Dispose();
        }
    }
}
