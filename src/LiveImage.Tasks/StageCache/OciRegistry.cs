using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LiveImage.Tasks.StageCache;

/// <summary>
/// The stage cache between machines: an OCI registry (distribution API) holds each cache entry as an
/// artifact tagged with the stage's key, one blob per file of the entry (the layer archive, the
/// stage's other outputs) and a small manifest naming them. Pulled blobs are checked against their
/// digest before anything uses them. Credentials come from the environment or Docker's config.json,
/// never from the project (<see cref="RegistryCredentials"/>).
/// </summary>
internal sealed class OciRegistry
{
    public const string ManifestType = "application/vnd.oci.image.manifest.v1+json";
    private const string ArtifactType = "application/vnd.liveimage.stage.v1";
    private const string FileType = "application/vnd.liveimage.stage.file.v1";
    private const string EmptyType = "application/vnd.oci.empty.v1+json";
    private static readonly byte[] Empty = "{}"u8.ToArray();

    private readonly HttpClient _http;
    private readonly Uri _base;
    private readonly string _repository;
    private readonly RegistryCredentials? _credentials;
    private string? _bearer;

    /// <param name="location">http(s)://host[:port]/repository/path</param>
    public OciRegistry(string location, HttpClient http, RegistryCredentials? credentials)
    {
        var uri = new Uri(location.TrimEnd('/'));
        _base = new Uri(uri.GetLeftPart(UriPartial.Authority) + "/");
        _repository = uri.AbsolutePath.Trim('/');
        if (_repository.Length == 0) throw new ArgumentException($"'{location}' names no repository (http://host:port/name)");
        _http = http;
        _credentials = credentials;
    }

    public string Host => _base.Authority;

    /// <summary>Whether the registry has an entry for <paramref name="key"/>.</summary>
    public bool Has(string key)
    {
        using var response = Send(() => new HttpRequestMessage(HttpMethod.Head, Url($"manifests/{key}")) { Headers = { Accept = { new(ManifestType) } } });
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        Ensure(response, $"manifest {key}");
        return true;
    }

    /// <summary>
    /// Downloads the entry of <paramref name="key"/> into <paramref name="directory"/>; false when the
    /// registry has none. A blob whose content does not match its digest is an <see cref="InvalidDataException"/>.
    /// </summary>
    public bool Pull(string key, string directory)
    {
        JsonNode manifest;
        using (var response = Send(() => new HttpRequestMessage(HttpMethod.Get, Url($"manifests/{key}")) { Headers = { Accept = { new(ManifestType) } } }))
        {
            if (response.StatusCode == HttpStatusCode.NotFound) return false;
            Ensure(response, $"manifest {key}");
            manifest = JsonNode.Parse(response.Content.ReadAsStream()) ?? throw new InvalidDataException($"the manifest of {key} is empty");
        }
        foreach (var layer in manifest["layers"]?.AsArray() ?? [])
        {
            var digest = (string?)layer?["digest"] ?? throw new InvalidDataException($"a layer of {key}'s manifest has no digest");
            var name = (string?)layer?["annotations"]?["org.opencontainers.image.title"] ?? throw new InvalidDataException($"a layer of {key}'s manifest has no title");
            if (name.Contains('/') || name.StartsWith('.')) throw new InvalidDataException($"{key}'s manifest names a file '{name}'");
            var path = Path.Combine(directory, name);
            using (var response = Send(() => new HttpRequestMessage(HttpMethod.Get, Url($"blobs/{digest}"))))
            {
                Ensure(response, $"blob {digest}");
                using var file = File.Create(path);
                response.Content.ReadAsStream().CopyTo(file);
            }
            var actual = Digest(path);
            if (actual != digest) throw new InvalidDataException($"the blob of {name} has digest {actual}, not {digest} as the manifest says");
        }
        return true;
    }

    /// <summary>Uploads every file of <paramref name="directory"/> (blobs the registry has are not sent again), then the manifest tagged <paramref name="key"/>.</summary>
    public void Push(string key, string directory)
    {
        var layers = new JsonArray();
        foreach (var path in Directory.GetFiles(directory).Order(StringComparer.Ordinal))
        {
            var digest = Digest(path);
            var size = new FileInfo(path).Length;
            PushBlob(digest, () => new StreamContent(File.OpenRead(path)));
            layers.Add(new JsonObject
            {
                ["mediaType"] = FileType,
                ["digest"] = digest,
                ["size"] = size,
                ["annotations"] = new JsonObject { ["org.opencontainers.image.title"] = Path.GetFileName(path) },
            });
        }
        var emptyDigest = "sha256:" + Convert.ToHexString(SHA256.HashData(Empty)).ToLowerInvariant();
        PushBlob(emptyDigest, () => new ByteArrayContent(Empty));
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = ManifestType,
            ["artifactType"] = ArtifactType,
            ["config"] = new JsonObject { ["mediaType"] = EmptyType, ["digest"] = emptyDigest, ["size"] = Empty.Length },
            ["layers"] = layers,
        };
        var body = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        using var response = Send(() => new HttpRequestMessage(HttpMethod.Put, Url($"manifests/{key}"))
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = new(ManifestType) } },
        });
        Ensure(response, $"manifest {key}");
    }

    private void PushBlob(string digest, Func<HttpContent> content)
    {
        using (var head = Send(() => new HttpRequestMessage(HttpMethod.Head, Url($"blobs/{digest}"))))
            if (head.IsSuccessStatusCode) return;
        Uri upload;
        using (var start = Send(() => new HttpRequestMessage(HttpMethod.Post, Url("blobs/uploads/"))))
        {
            Ensure(start, "blob upload");
            upload = new Uri(_base, start.Headers.Location ?? throw new HttpRequestException("the registry gave no upload location"));
        }
        var target = new UriBuilder(upload);
        target.Query = (target.Query.Length > 1 ? target.Query[1..] + "&" : "") + "digest=" + Uri.EscapeDataString(digest);
        using var put = Send(() =>
        {
            var c = content();
            c.Headers.ContentType = new("application/octet-stream");
            return new HttpRequestMessage(HttpMethod.Put, target.Uri) { Content = c };
        });
        Ensure(put, $"blob {digest}");
    }

    /// <summary>
    /// Sends a request, answering the registry's authentication challenge (basic, or a bearer token from its
    /// realm) once; a registry that still answers 401 or 403 is a <see cref="RegistryRefusedException"/>.
    /// </summary>
    private HttpResponseMessage Send(Func<HttpRequestMessage> request)
    {
        var response = _http.Send(Authorize(request()));
        if (response.StatusCode == HttpStatusCode.Unauthorized && response.Headers.WwwAuthenticate.FirstOrDefault() is { } challenge)
        {
            response.Dispose();
            if (challenge.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase)) _bearer = Token(challenge.Parameter ?? "");
            else if (_credentials is null) throw Refused(HttpStatusCode.Unauthorized);
            response = _http.Send(Authorize(request()));
        }
        if (response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)) return response;
        var status = response.StatusCode;
        response.Dispose();
        throw Refused(status);
    }

    private RegistryRefusedException Refused(HttpStatusCode status) => new(_credentials is null
        ? $"HTTP {(int)status}: it asks for credentials and none were found for {Host}"
        : $"HTTP {(int)status}: it refuses the credentials for {Host} from {_credentials.Source}");

    private HttpRequestMessage Authorize(HttpRequestMessage request)
    {
        if (_bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _bearer);
        else if (_credentials is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Basic", _credentials.Basic);
        return request;
    }

    private string Token(string parameters)
    {
        var fields = parameters.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0].Trim(), p => p[1].Trim().Trim('"'));
        if (!fields.TryGetValue("realm", out var realm)) throw new HttpRequestException("the registry's bearer challenge has no realm");
        var query = string.Join('&', fields.Where(f => f.Key is "service" or "scope").Select(f => $"{f.Key}={Uri.EscapeDataString(f.Value)}"));
        using var request = new HttpRequestMessage(HttpMethod.Get, realm + (query.Length > 0 ? "?" + query : ""));
        if (_credentials is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Basic", _credentials.Basic);
        using var response = _http.Send(request);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) throw Refused(response.StatusCode);
        Ensure(response, "token");
        var json = JsonNode.Parse(response.Content.ReadAsStream());
        return (string?)json?["token"] ?? (string?)json?["access_token"] ?? throw new HttpRequestException("the registry's token service gave no token");
    }

    private Uri Url(string path) => new(_base, $"v2/{_repository}/{path}");

    private static void Ensure(HttpResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"{what}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
    }

    public static string Digest(string path)
    {
        using var stream = File.OpenRead(path);
        return "sha256:" + Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }
}
