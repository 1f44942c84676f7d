using System.Text;
using System.Text.Json.Nodes;

namespace LiveImage.Tasks.StageCache;

/// <summary>
/// The stage cache registry's credentials, from where container tools keep them, never from the
/// project: LIVEIMAGE_REGISTRY_USERNAME and LIVEIMAGE_REGISTRY_PASSWORD, else the registry's "auth"
/// in Docker's config.json ($DOCKER_CONFIG/config.json or ~/.docker/config.json, as docker login writes it).
/// </summary>
internal static class RegistryCredentials
{
    /// <summary>base64("user:password") for HTTP basic authentication; null for none.</summary>
    public static string? Find(string host, Func<string, string?> environment, string? home)
    {
        if (environment("LIVEIMAGE_REGISTRY_USERNAME") is { Length: > 0 } user)
            return Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{environment("LIVEIMAGE_REGISTRY_PASSWORD")}"));
        var directory = environment("DOCKER_CONFIG") is { Length: > 0 } d ? d : home is null ? null : Path.Combine(home, ".docker");
        var config = directory is null ? null : Path.Combine(directory, "config.json");
        if (config is null || !File.Exists(config)) return null;
        var auths = JsonNode.Parse(File.ReadAllText(config))?["auths"]?.AsObject();
        if (auths is null) return null;
        foreach (var (name, value) in auths)
        {
            var server = name.Contains("://") ? new Uri(name).Authority : name.Split('/')[0];
            if (server.Equals(host, StringComparison.OrdinalIgnoreCase) && (string?)value?["auth"] is { Length: > 0 } auth) return auth;
        }
        return null;
    }
}
