using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// Debian's docker-registry (the distribution project's registry) serving a temporary storage
/// directory on a free port of 127.0.0.1, with a configuration file of its own; stopped on Dispose.
/// With a user and password it asks for them (HTTP basic over plain http, which it allows: its
/// htpasswd file is bcrypt, as htpasswd -B of apache2-utils writes it).
/// </summary>
internal sealed class RegistryServer : IDisposable
{
    private readonly Process _process;
    private readonly string _storage;

    public int Port { get; }

    private RegistryServer(Process process, string storage, int port)
    {
        _process = process;
        _storage = storage;
        Port = port;
    }

    public static RegistryServer Start(string root, (string User, string Password)? login = null)
    {
        var storage = Path.Combine(root, "storage");
        Directory.CreateDirectory(storage);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var config = Path.Combine(root, "config.yml");
        File.WriteAllText(config, $"""
            version: 0.1
            log:
              level: warn
            storage:
              filesystem:
                rootdirectory: {storage}
            http:
              addr: 127.0.0.1:{port}
            """);
        if (login is var (user, password))
        {
            var htpasswd = Path.Combine(root, "htpasswd");
            var (code, text) = Tools.Run("htpasswd", "-Bbc", htpasswd, user, password);
            Assert.True(code == 0, $"htpasswd (apache2-utils) failed: {text}");
            File.AppendAllText(config, $"""

                auth:
                  htpasswd:
                    realm: liveimage-test
                    path: {htpasswd}
                """);
        }
        var process = Process.Start(new ProcessStartInfo("docker-registry", ["serve", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RegistryServer(process, storage, port);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 50; i++)
        {
            try
            {
                // with a login, /v2/ answers 401 until one is given: it is up
                if (http.GetAsync($"http://127.0.0.1:{port}/v2/").Result is { IsSuccessStatusCode: true } or { StatusCode: HttpStatusCode.Unauthorized }) return server;
            }
            catch (AggregateException) { /* not listening yet */ }
            Thread.Sleep(200);
        }
        server.Dispose();
        throw new InvalidOperationException($"docker-registry did not answer on 127.0.0.1:{port}");
    }

    /// <summary>Flips a byte in the middle of the blob of <paramref name="file"/> in the entry tagged <paramref name="tag"/>, in the registry's own storage.</summary>
    public void DamageBlob(string repository, string tag, string file)
    {
        var v2 = Path.Combine(_storage, "docker/registry/v2");
        var manifestDigest = File.ReadAllText(Path.Combine(v2, "repositories", repository, "_manifests/tags", tag, "current/link")).Trim();
        var manifest = JsonNode.Parse(File.ReadAllText(Blob(v2, manifestDigest)))!;
        var layer = manifest["layers"]!.AsArray().Single(l => (string?)l!["annotations"]!["org.opencontainers.image.title"] == file)!;
        var data = Blob(v2, (string)layer["digest"]!);
        var bytes = File.ReadAllBytes(data);
        bytes[bytes.Length / 2] ^= 0xff;
        File.WriteAllBytes(data, bytes);
    }

    private static string Blob(string v2, string digest)
    {
        var hex = digest["sha256:".Length..];
        return Path.Combine(v2, "blobs/sha256", hex[..2], hex, "data");
    }

    public void Dispose()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }
}
