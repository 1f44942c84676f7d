using System.Security.Cryptography;
using System.Text;

namespace LiveImage.Tasks.StageCache;

/// <summary>
/// What a stage key holds of the live user's password: a slow salted hash (PBKDF2-SHA256), the same on
/// every machine so that a registry can share the configure stage, and no easier to reverse than the
/// SHA-512-crypt hash the stage's own layer holds in /etc/shadow.
/// </summary>
internal static class PasswordKey
{
    private static readonly byte[] Salt = "liveimage-stage-cache-password"u8.ToArray();

    public static string Of(string password) =>
        password.Length == 0 ? "none"
        : Convert.ToHexString(Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), Salt, 200_000, HashAlgorithmName.SHA256, 32)).ToLowerInvariant();
}
