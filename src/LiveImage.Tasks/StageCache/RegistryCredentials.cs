using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LiveImage.Tasks.StageCache;

/// <summary>
/// The stage cache registry's credentials, from where container tools keep them, never from the
/// project: LIVEIMAGE_REGISTRY_USERNAME and LIVEIMAGE_REGISTRY_PASSWORD, else the registry host's entry
/// in the "auths" of Docker's config.json ($DOCKER_CONFIG/config.json or ~/.docker/config.json, as
/// docker login writes it: "auth", base64 of user:password, or "username" and "password").
/// </summary>
/// <param name="Basic">base64("user:password") for HTTP basic authentication.</param>
/// <param name="Source">Where they were found, for messages (never the secret itself).</param>
internal sealed record RegistryCredentials(string Basic, string Source)
{
    /// <summary>Where credentials are read from, for messages.</summary>
    public const string Places = "LIVEIMAGE_REGISTRY_USERNAME and LIVEIMAGE_REGISTRY_PASSWORD, else the registry's entry in the \"auths\" of $DOCKER_CONFIG/config.json or ~/.docker/config.json";

    /// <summary>The credentials for <paramref name="host"/> (host[:port]); null for none.</summary>
    public static RegistryCredentials? Find(string host, Func<string, string?> environment, string? home)
    {
        if (environment("LIVEIMAGE_REGISTRY_USERNAME") is { Length: > 0 } user)
            return new(Encode(user, environment("LIVEIMAGE_REGISTRY_PASSWORD") ?? ""), "LIVEIMAGE_REGISTRY_USERNAME/PASSWORD");
        var directory = environment("DOCKER_CONFIG") is { Length: > 0 } d ? d : home is null ? null : Path.Combine(home, ".docker");
        var config = directory is null ? null : Path.Combine(directory, "config.json");
        if (config is null || !File.Exists(config)) return null;
        JsonObject? auths;
        try
        {
            auths = JsonNode.Parse(File.ReadAllText(config))?["auths"] as JsonObject;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return null; // as if there were none: the registry's refusal (LIVE1096) then says where credentials are read from
        }
        foreach (var (name, value) in auths ?? [])
        {
            var server = !name.Contains("://") ? name.Split('/')[0] : Uri.TryCreate(name, UriKind.Absolute, out var uri) ? uri.Authority : "";
            if (!server.Equals(host, StringComparison.OrdinalIgnoreCase) || value is not JsonObject entry) continue;
            if (Decodes(Text(entry, "auth")) is { } auth) return new(auth, config);
            if (Text(entry, "username") is { Length: > 0 } login) return new(Encode(login, Text(entry, "password") ?? ""), config);
        }
        return null;
    }

    private static string Encode(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    private static string? Text(JsonObject entry, string key) => entry[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary><paramref name="auth"/> when it is base64 of user:password, else null (an entry without usable credentials).</summary>
    private static string? Decodes(string? auth)
    {
        if (string.IsNullOrEmpty(auth)) return null;
        var bytes = new byte[auth.Length];
        return Convert.TryFromBase64String(auth, bytes, out var length) && Encoding.UTF8.GetString(bytes, 0, length).Contains(':') ? auth : null;
    }
}
