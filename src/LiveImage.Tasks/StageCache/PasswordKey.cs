using System.Security.Cryptography;
using System.Text;

namespace LiveImage.Tasks.StageCache;

/// <summary>
/// What a stage key holds of the live user's password: an HMAC-SHA256 under a random secret kept in
/// the stage cache's directory (mode 0600), so the keys, which appear in obj/ and as the cache's
/// directory names, tell nothing about the password, and builds that share the cache share the key.
/// </summary>
internal static class PasswordKey
{
    private const string SecretName = ".password-secret";

    public static string Of(string cacheDirectory, string password)
    {
        if (password.Length == 0) return "none";
        if (cacheDirectory.Length == 0) return Guid.NewGuid().ToString("N"); // no cache: nothing to match
        return Convert.ToHexString(HMACSHA256.HashData(Secret(cacheDirectory), Encoding.UTF8.GetBytes(password))).ToLowerInvariant();
    }

    private static byte[] Secret(string cacheDirectory)
    {
        var path = Path.Combine(cacheDirectory, SecretName);
        if (File.Exists(path)) return File.ReadAllBytes(path);
        Directory.CreateDirectory(cacheDirectory);
        var partial = $"{path}.{Guid.NewGuid():N}";
        var owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(partial, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = owner }))
            stream.Write(RandomNumberGenerator.GetBytes(32));
        // two builds creating it at once: the first rename wins and both read the winner
        try { File.Move(partial, path, overwrite: false); }
        catch (IOException) when (File.Exists(path)) { File.Delete(partial); }
        return File.ReadAllBytes(path);
    }
}
