using System.Net;
using System.Net.Sockets;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// A real signed apt archive on the loopback address: flat repositories (one folder each) of
/// tiny packages built with dpkg-deb, indexed with apt-ftparchive, signed (InRelease) with a
/// fresh ed25519 key, and served over HTTP for as long as the object lives.
/// </summary>
internal sealed class LocalArchive : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly string _gnupg;

    public string Root { get; }
    public string BaseUri { get; }

    /// <summary>The signing key, binary, as 'gpg --export' writes it.</summary>
    public string KeyFile => Path.Combine(Root, "archive-key.gpg");

    public LocalArchive(string root)
    {
        Root = root;
        _gnupg = Path.Combine(root, ".gnupg");
        Directory.CreateDirectory(_gnupg);
        File.SetUnixFileMode(_gnupg, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Gpg("--quick-gen-key", "LiveImage test archive <archive@liveimage.invalid>", "ed25519", "sign", "never");
        Gpg("--output", KeyFile, "--export");

        var port = FreePort();
        BaseUri = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(BaseUri);
        _listener.Start();
        _ = Task.Run(Serve);
    }

    /// <summary>Builds an Architecture: all package holding /usr/share/NAME/hello.txt into the repository folder.</summary>
    public void AddPackage(string repository, string name)
    {
        var tree = Path.Combine(Root, ".build", name);
        Directory.CreateDirectory(Path.Combine(tree, "DEBIAN"));
        Directory.CreateDirectory(Path.Combine(tree, "usr/share", name));
        File.WriteAllText(Path.Combine(tree, "usr/share", name, "hello.txt"), $"hello from {name}\n");
        File.WriteAllText(Path.Combine(tree, "DEBIAN/control"), $"""
            Package: {name}
            Version: 1.0
            Architecture: all
            Maintainer: LiveImage tests <archive@liveimage.invalid>
            Description: test package from a local signed archive

            """);
        var folder = Path.Combine(Root, repository);
        Directory.CreateDirectory(folder);
        Check(Tools.Run("dpkg-deb", "--root-owner-group", "--build", tree, Path.Combine(folder, $"{name}_1.0_all.deb")));
    }

    /// <summary>Writes Packages, Release and the signed InRelease of a repository folder.</summary>
    public void Publish(string repository)
    {
        var folder = Path.Combine(Root, repository);
        Check(Tools.RunIn(folder, "/bin/sh", "-c", "apt-ftparchive packages . > Packages && apt-ftparchive release . > ../Release.tmp && mv ../Release.tmp Release"));
        Gpg("--output", Path.Combine(folder, "InRelease"), "--clearsign", Path.Combine(folder, "Release"));
    }

    private void Gpg(params string[] arguments) => Check(Tools.Run("gpg", ["--homedir", _gnupg, "--batch", "--yes", "--passphrase", "", "--pinentry-mode", "loopback", .. arguments]));

    private static string Check((int ExitCode, string Output) result)
    {
        Assert.True(result.ExitCode == 0, result.Output);
        return result.Output;
    }

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            var path = Path.GetFullPath(Path.Combine(Root, Uri.UnescapeDataString(context.Request.Url!.AbsolutePath.TrimStart('/'))));
            using var response = context.Response;
            if (!path.StartsWith(Root + "/", StringComparison.Ordinal) || !File.Exists(path))
            {
                response.StatusCode = 404;
                continue;
            }
            var bytes = await File.ReadAllBytesAsync(path);
            response.ContentLength64 = bytes.Length;
            if (context.Request.HttpMethod != "HEAD") await response.OutputStream.WriteAsync(bytes);
        }
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public void Dispose() => _listener.Close();
}
