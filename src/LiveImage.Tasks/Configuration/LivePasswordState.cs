namespace LiveImage.Tasks.Configuration;

/// <summary>
/// How the configure stage notices a new password without any derivative of it reaching an input
/// cache, a log line or a binary log. A file under obj/ (mode 0600, the owner's only) keeps a
/// SHA-512-crypt hash of the password, salted and iterated as /etc/shadow's are, and a random
/// generation token. While the password still verifies against the hash, the token stays; when it
/// does not, a new salt, hash and token are written. Only the token goes into configure.inputs.cache:
/// it changes exactly when the password does and says nothing about it.
/// </summary>
internal static class LivePasswordState
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>The generation token for <paramref name="password"/>, updating <paramref name="stateFile"/> when the password changed.</summary>
    public static string Generation(string stateFile, string password)
    {
        var lines = File.Exists(stateFile) ? File.ReadAllLines(stateFile) : [];
        if (lines.Length >= 2 && lines[1].Length > 0 && Sha512Crypt.Verify(password, lines[0]))
        {
            File.SetUnixFileMode(stateFile, OwnerOnly);
            return lines[1];
        }
        var token = Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(stateFile))!);
        var partial = stateFile + ".tmp";
        File.Delete(partial);
        // created 0600, so the hash is never readable by others, not even for a moment
        using (var stream = new FileStream(partial, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnly }))
        using (var writer = new StreamWriter(stream))
            writer.Write($"{Sha512Crypt.Hash(password, Sha512Crypt.NewSalt())}\n{token}\n");
        File.Move(partial, stateFile, overwrite: true);
        return token;
    }
}
