using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LiveImage.Tasks.Netboot;

/// <summary>
/// A small read-only HTTP/1.1 file server for the netboot folder: GET and HEAD, single byte ranges
/// (<c>Range: bytes=a-b</c>, <c>a-</c>, <c>-n</c>), one request per connection (<c>Connection: close</c>,
/// which wget, busybox wget, iPXE and lpxelinux all handle). Nothing outside the root directory is
/// ever served. <see cref="Dispose"/> stops listening, closes every open connection and waits for
/// the handlers, so the port is free again when it returns.
/// </summary>
internal sealed class StaticHttpServer : IDisposable
{
    private const int MaxHeaderBytes = 16 * 1024;
    private static readonly TimeSpan HeaderTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly string _root;
    private readonly TcpListener _listener;
    private readonly Action<string>? _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<TcpClient, Task> _connections = new();
    private readonly Task _acceptLoop;
    private bool _disposed;

    private StaticHttpServer(string root, TcpListener listener, Action<string>? log)
    {
        _root = root;
        _listener = listener;
        _log = log;
        _acceptLoop = Task.Run(AcceptLoop);
    }

    /// <summary>The port listened on (the one asked for, or the one the system chose for port 0).</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public IPAddress Address => ((IPEndPoint)_listener.LocalEndpoint).Address;

    /// <summary>Requests answered so far.</summary>
    public int RequestCount => _requests;

    private int _requests;

    /// <summary>
    /// Listens on <paramref name="address"/>:<paramref name="port"/> (0: any free port) and serves
    /// <paramref name="root"/>. Throws <see cref="SocketException"/> when the port cannot be had.
    /// </summary>
    public static StaticHttpServer Start(string root, IPAddress address, int port, Action<string>? log = null)
    {
        var full = Path.GetFullPath(root).TrimEnd('/');
        if (!Directory.Exists(full)) throw new DirectoryNotFoundException($"The directory '{full}' does not exist.");
        var listener = new TcpListener(address, port);
        listener.Start(64);
        return new StaticHttpServer(full, listener, log);
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException or InvalidOperationException)
            {
                return;
            }
            var task = Task.Run(() => Serve(client));
            _connections[client] = task;
            _ = task.ContinueWith(_ => _connections.TryRemove(client, out Task? _), TaskScheduler.Default);
        }
    }

    private async Task Serve(TcpClient client)
    {
        var remote = client.Client.RemoteEndPoint?.ToString() ?? "?";
        try
        {
            client.NoDelay = true;
            using var _ = client;
            var stream = client.GetStream();
            using var headerTimeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            headerTimeout.CancelAfter(HeaderTimeout);
            var head = await ReadHead(stream, headerTimeout.Token).ConfigureAwait(false);
            if (head is null) return;
            var request = HttpRequestHead.Parse(head);
            Interlocked.Increment(ref _requests);
            var (status, length) = await Respond(stream, request).ConfigureAwait(false);
            _log?.Invoke($"{remote} \"{request?.Method} {request?.Target}\" {status} {length}{(request?.Range is { } r ? " range " + r : "")}");
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // the client went away, or the server is stopping
        }
    }

    private static async Task<string?> ReadHead(NetworkStream stream, CancellationToken cancel)
    {
        var buffer = new byte[MaxHeaderBytes];
        var count = 0;
        while (count < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(count, buffer.Length - count), cancel).ConfigureAwait(false);
            if (n == 0) return null;
            count += n;
            var text = Encoding.Latin1.GetString(buffer, 0, count);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end < 0) end = text.IndexOf("\n\n", StringComparison.Ordinal);
            if (end >= 0) return text[..end];
        }
        return ""; // too long: answered as a bad request
    }

    private async Task<(int Status, long Length)> Respond(NetworkStream stream, HttpRequestHead? request)
    {
        if (request is null) return await SendText(stream, 400, "Bad Request", "bad request\n", head: false).ConfigureAwait(false);
        var head = request.Method == "HEAD";
        if (request.Method is not ("GET" or "HEAD"))
            return await SendText(stream, 405, "Method Not Allowed", "only GET and HEAD\n", head, "Allow: GET, HEAD\r\n").ConfigureAwait(false);

        var path = MapPath(request.Path);
        if (path is null) return await SendText(stream, 404, "Not Found", "not found\n", head).ConfigureAwait(false);
        if (Directory.Exists(path))
        {
            if (!request.Path.EndsWith('/'))
                return await SendText(stream, 301, "Moved Permanently", "\n", head, $"Location: {request.Path}/\r\n").ConfigureAwait(false);
            var listing = new StringBuilder();
            foreach (var entry in Directory.EnumerateFileSystemEntries(path).Order(StringComparer.Ordinal))
                listing.Append(Path.GetFileName(entry)).Append(Directory.Exists(entry) ? "/" : "").Append('\n');
            return await SendText(stream, 200, "OK", listing.ToString(), head).ConfigureAwait(false);
        }
        if (!File.Exists(path)) return await SendText(stream, 404, "Not Found", "not found\n", head).ConfigureAwait(false);

        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: true);
        var size = file.Length;
        var modified = File.GetLastWriteTimeUtc(path).ToString("R", CultureInfo.InvariantCulture);
        var common = $"Accept-Ranges: bytes\r\nLast-Modified: {modified}\r\nContent-Type: {ContentType(path)}\r\n";
        var range = HttpByteRange.Parse(request.Range, size);
        if (range is { Satisfiable: false })
        {
            var header = $"HTTP/1.1 416 Range Not Satisfiable\r\n{Standard()}Content-Range: bytes */{size}\r\nContent-Length: 0\r\n{common}\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(header), _stop.Token).ConfigureAwait(false);
            return (416, 0);
        }
        long start = 0, length = size;
        string status = "200 OK", extra = "";
        if (range is { } r)
        {
            start = r.Start;
            length = r.Length;
            status = "206 Partial Content";
            extra = $"Content-Range: bytes {r.Start}-{r.Start + r.Length - 1}/{size}\r\n";
        }
        var headers = $"HTTP/1.1 {status}\r\n{Standard()}{common}{extra}Content-Length: {length}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(headers), _stop.Token).ConfigureAwait(false);
        if (!head)
        {
            file.Seek(start, SeekOrigin.Begin);
            var buffer = new byte[256 * 1024];
            var left = length;
            while (left > 0)
            {
                var n = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), _stop.Token).ConfigureAwait(false);
                if (n == 0) break; // the file shrank under us: the client sees a short body
                await stream.WriteAsync(buffer.AsMemory(0, n), _stop.Token).ConfigureAwait(false);
                left -= n;
            }
        }
        return (range is null ? 200 : 206, length);
    }

    private async Task<(int, long)> SendText(NetworkStream stream, int code, string reason, string body, bool head, string extra = "")
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var headers = $"HTTP/1.1 {code} {reason}\r\n{Standard()}Content-Type: text/plain; charset=utf-8\r\nContent-Length: {bytes.Length}\r\n{extra}\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(headers), _stop.Token).ConfigureAwait(false);
        if (!head) await stream.WriteAsync(bytes, _stop.Token).ConfigureAwait(false);
        return (code, head ? 0 : bytes.Length);
    }

    private static string Standard() =>
        $"Date: {DateTime.UtcNow.ToString("R", CultureInfo.InvariantCulture)}\r\nServer: LiveImage.Sdk\r\nConnection: close\r\n";

    private static string ContentType(string path) => Path.GetExtension(path) switch
    {
        ".cfg" or ".ipxe" or ".txt" or ".log" => "text/plain; charset=utf-8",
        _ when Path.GetFileName(Path.GetDirectoryName(path)) == "pxelinux.cfg" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };

    /// <summary>The file a request path names inside the root, or null when it would leave the root.</summary>
    internal string? MapPath(string requestPath) => MapPath(_root, requestPath);

    internal static string? MapPath(string root, string requestPath)
    {
        string decoded;
        try
        {
            decoded = Uri.UnescapeDataString(requestPath);
        }
        catch (UriFormatException)
        {
            return null;
        }
        if (decoded.Contains('\0') || decoded.Contains('\\')) return null;
        var segments = decoded.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Any(s => s is "." or "..")) return null;
        var full = Path.GetFullPath(Path.Combine([root, .. segments]));
        return full == root || full.StartsWith(root + "/", StringComparison.Ordinal) ? full : null;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stop.Cancel();
        _listener.Stop();
        foreach (var client in _connections.Keys)
        {
            // a handler that has just finished has disposed its client, and with it the socket
            try { client.Client?.Close(0); }
            catch (ObjectDisposedException) { }
        }
        try
        {
            Task.WaitAll([_acceptLoop, .. _connections.Values], StopTimeout);
        }
        catch (AggregateException)
        {
            // handlers end with the exceptions their closed sockets cause
        }
        _stop.Dispose();
    }
}

/// <summary>The request line and the headers the file server uses.</summary>
internal sealed record HttpRequestHead(string Method, string Target, string Path, string? Range)
{
    /// <summary>Parses the head of a request (request line and headers); null when it is not HTTP.</summary>
    public static HttpRequestHead? Parse(string head)
    {
        var lines = head.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var first = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (first.Length != 3 || !first[2].StartsWith("HTTP/1.", StringComparison.Ordinal)) return null;
        var target = first[1];
        string path;
        if (target.StartsWith('/')) path = target;
        else if (Uri.TryCreate(target, UriKind.Absolute, out var absolute) && absolute.Scheme is "http") path = absolute.AbsolutePath;
        else return null;
        var query = path.IndexOfAny(['?', '#']);
        if (query >= 0) path = path[..query];
        string? range = null;
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Trim().Equals("Range", StringComparison.OrdinalIgnoreCase)) range = line[(colon + 1)..].Trim();
        }
        return new HttpRequestHead(first[0].ToUpperInvariant(), target, path, range);
    }
}

/// <summary>One byte range of a file (RFC 9110 §14): what a <c>Range</c> header asks for.</summary>
internal readonly record struct HttpByteRange(long Start, long Length, bool Satisfiable)
{
    /// <summary>
    /// The range a header asks for in a file of <paramref name="size"/> bytes; null when the whole
    /// file is to be sent (no header, another unit, several ranges or a malformed value: the server
    /// may ignore those); Satisfiable=false for a range that starts past the end (416).
    /// </summary>
    public static HttpByteRange? Parse(string? header, long size)
    {
        if (string.IsNullOrWhiteSpace(header)) return null;
        var value = header.Trim();
        if (!value.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase)) return null;
        var spec = value[6..].Trim();
        if (spec.Contains(',')) return null;
        var dash = spec.IndexOf('-');
        if (dash < 0) return null;
        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        if (first.Length == 0)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var suffix)) return null;
            if (suffix == 0 || size == 0) return new HttpByteRange(0, 0, false);
            var n = Math.Min(suffix, size);
            return new HttpByteRange(size - n, n, true);
        }
        if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var start)) return null;
        long end = size - 1;
        if (last.Length > 0)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out end) || end < start) return null;
            end = Math.Min(end, size - 1);
        }
        if (start >= size) return new HttpByteRange(0, 0, false);
        return new HttpByteRange(start, end - start + 1, true);
    }
}
