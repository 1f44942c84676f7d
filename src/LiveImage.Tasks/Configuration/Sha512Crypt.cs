using System.Security.Cryptography;
using System.Text;

namespace LiveImage.Tasks.Configuration;

/// <summary>
/// SHA-512-crypt ("$6$", U. Drepper's specification, as glibc, libxcrypt and /etc/shadow use it):
/// a salted, iterated hash. The build keeps one of the live user's password to notice a change
/// without keeping anything a dictionary attack could use cheaply.
/// </summary>
internal static class Sha512Crypt
{
    private const string Alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    public const int DefaultRounds = 5000;

    /// <summary>A new random salt of 16 characters from crypt's alphabet.</summary>
    public static string NewSalt() => string.Concat(Enumerable.Range(0, 16).Select(_ => Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)]));

    /// <summary>
    /// A salt of 16 characters that follows from <paramref name="seed"/>: a reproducible image's shadow file must
    /// be the same in every build, so its live user's salt comes from the image's date, user and password.
    /// </summary>
    public static string SaltFrom(string seed) => string.Concat(SHA512.HashData(Encoding.UTF8.GetBytes(seed)).Take(16).Select(b => Alphabet[b % Alphabet.Length]));

    /// <summary>Whether <paramref name="password"/> is the one <paramref name="hash"/> ("$6$[rounds=N$]salt$...") was made from.</summary>
    public static bool Verify(string password, string hash)
    {
        var parts = hash.Split('$');
        if (parts.Length < 4 || parts[1] != "6") return false;
        var rounds = DefaultRounds;
        var salt = parts[2];
        if (salt.StartsWith("rounds=", StringComparison.Ordinal))
        {
            if (parts.Length < 5 || !int.TryParse(salt[7..], out rounds)) return false;
            salt = parts[3];
        }
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(password, salt, rounds)), Encoding.ASCII.GetBytes(hash));
    }

    public static string Hash(string password, string salt, int rounds = DefaultRounds)
    {
        rounds = Math.Clamp(rounds, 1000, 999_999_999);
        var key = Encoding.UTF8.GetBytes(password);
        var saltBytes = Encoding.UTF8.GetBytes(salt);
        if (saltBytes.Length > 16) saltBytes = saltBytes[..16];

        var b = SHA512.HashData([.. key, .. saltBytes, .. key]);
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        h.AppendData(key);
        h.AppendData(saltBytes);
        for (var n = key.Length; n > 0; n -= 64) h.AppendData(b, 0, Math.Min(n, 64));
        for (var n = key.Length; n > 0; n >>= 1) h.AppendData((n & 1) != 0 ? b : key);
        var a = h.GetHashAndReset();

        for (var i = 0; i < key.Length; i++) h.AppendData(key);
        var p = Cycle(h.GetHashAndReset(), key.Length);
        for (var i = 0; i < 16 + a[0]; i++) h.AppendData(saltBytes);
        var s = Cycle(h.GetHashAndReset(), saltBytes.Length);

        var c = a;
        for (var r = 0; r < rounds; r++)
        {
            h.AppendData(r % 2 != 0 ? p : c);
            if (r % 3 != 0) h.AppendData(s);
            if (r % 7 != 0) h.AppendData(p);
            h.AppendData(r % 2 != 0 ? c : p);
            c = h.GetHashAndReset();
        }

        var text = new StringBuilder("$6$");
        if (rounds != DefaultRounds) text.Append($"rounds={rounds}$");
        text.Append(Encoding.UTF8.GetString(saltBytes)).Append('$');
        // the specification's byte order: triples (k, k+21, k+42), rotated by k mod 3, then the last byte
        for (var k = 0; k < 21; k++)
        {
            var (x, y, z) = (c[k], c[k + 21], c[k + 42]);
            var (b2, b1, b0) = (k % 3) switch { 0 => (x, y, z), 1 => (y, z, x), _ => (z, x, y) };
            Encode(text, b2, b1, b0, 4);
        }
        Encode(text, 0, 0, c[63], 2);
        return text.ToString();
    }

    private static byte[] Cycle(byte[] digest, int length) => Enumerable.Range(0, length).Select(i => digest[i % digest.Length]).ToArray();

    private static void Encode(StringBuilder text, byte b2, byte b1, byte b0, int characters)
    {
        var w = (b2 << 16) | (b1 << 8) | b0;
        for (var i = 0; i < characters; i++, w >>= 6) text.Append(Alphabet[w & 0x3f]);
    }
}
