using System.Globalization;
using System.Security.Cryptography;

namespace LiveImage.Tasks.Netboot;

/// <summary>One module of a netbooted stack: its file name in the netboot folder, size and sha256 (lower-case hex).</summary>
internal sealed record NetbootModule(string Name, long Size, string Sha256)
{
    /// <summary>The size and sha256 of a module file, under the name it has in the netboot folder.</summary>
    public static NetbootModule Of(string path, string name)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1024 * 1024);
        var hash = Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
        return new NetbootModule(name, stream.Length, hash);
    }
}

/// <summary>
/// The manifest of a netbooted stack, <c>&lt;image&gt;.modules</c> beside its modules: a text file whose
/// lines are <c>NAME SIZE SHA256</c>, bottom module first; lines starting with '#' and empty lines are
/// ignored. The initramfs script (initramfs/9990-zz-liveimage-modules.sh) reads the same format.
/// </summary>
internal static class NetbootManifest
{
    public const string Extension = ".modules";

    public const string Header = "# LiveImage.Sdk netboot manifest: the modules of the stack, bottom first, as NAME SIZE SHA256";

    public static string Write(IEnumerable<NetbootModule> modules) =>
        Header + "\n" + string.Concat(modules.Select(m => $"{m.Name} {m.Size.ToString(CultureInfo.InvariantCulture)} {m.Sha256}\n"));

    /// <summary>The modules a manifest lists, bottom first; a malformed line is a <see cref="FormatException"/> naming its number.</summary>
    public static IReadOnlyList<NetbootModule> Parse(string text)
    {
        var modules = new List<NetbootModule>();
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 3
                || !IsModuleName(fields[0])
                || !long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size)
                || fields[2].Length != 64 || !fields[2].All(Uri.IsHexDigit))
                throw new FormatException($"line {number} is not 'NAME SIZE SHA256': {line}");
            modules.Add(new NetbootModule(fields[0], size, fields[2].ToLowerInvariant()));
        }
        return modules;
    }

    /// <summary>A module is a plain file name beside the manifest: no directory, not hidden.</summary>
    public static bool IsModuleName(string name) =>
        name.Length > 0 && !name.StartsWith('.') && !name.Contains('/') && !name.Contains('\\') && !name.Any(char.IsWhiteSpace);
}
