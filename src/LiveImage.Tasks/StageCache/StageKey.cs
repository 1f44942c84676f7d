using System.Security.Cryptography;
using System.Text;

namespace LiveImage.Tasks.StageCache;

/// <summary>
/// A stage's content address: the SHA-256 of everything its result depends on. Two builds that give
/// a stage the same key get the same layer, so either may reuse the other's (README, "Stage cache").
/// The key chains the key of the stage below, so a change anywhere reaches every stage above it.
/// </summary>
internal static class StageKey
{
    /// <summary>Written instead of a key by a stage whose result cannot be known from its inputs: nothing above it is cached either.</summary>
    public const string Uncacheable = "uncacheable";

    /// <summary>The key file of a stage whose inputs cache is <paramref name="inputsCache"/> (obj/&lt;stage&gt;.inputs.key).</summary>
    public static string FileFor(string inputsCache) => Path.ChangeExtension(inputsCache, ".key");

    /// <summary>The key file beside a stage's stamp (obj/bootstrap.stamp: obj/bootstrap.inputs.key), where the stage below left its key.</summary>
    public static string FileBesideStamp(string stamp) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(stamp))!, Path.GetFileNameWithoutExtension(stamp) + ".inputs.key");

    /// <summary>
    /// The key of a stage: its name and logic version, its non-file inputs (the inputs cache's lines),
    /// each input file (a stamp of the stage below stands for that stage's key, any other file for its
    /// content) and <paramref name="extras"/> (lock file, archive release dates). Null when a stage below
    /// is uncacheable or has no key (built before the SDK kept keys).
    /// </summary>
    public static string? Compute(string stage, string logicVersion, string inputsCacheContent, IEnumerable<string> inputFiles, IEnumerable<string> extras)
    {
        var text = new StringBuilder($"liveimage-stage-cache 1\nstage {stage} {logicVersion}\n").Append(inputsCacheContent).Append('\n');
        foreach (var file in inputFiles)
        {
            if (file.EndsWith(".stamp", StringComparison.Ordinal))
            {
                var keyFile = FileBesideStamp(file);
                var below = File.Exists(keyFile) ? File.ReadAllText(keyFile).Trim() : "";
                if (below.Length == 0 || below == Uncacheable) return null;
                text.Append($"below {Path.GetFileNameWithoutExtension(file)} {below}\n");
            }
            else if (File.Exists(file))
            {
                text.Append($"file {Path.GetFileName(file)} {FileHash(file)}\n");
            }
            else
            {
                text.Append($"file {Path.GetFileName(file)} missing\n");
            }
        }
        foreach (var extra in extras) text.Append(extra).Append('\n');
        return Hash(text.ToString());
    }

    /// <summary>The key of one layer of a stage with several (a hook): <paramref name="below"/> chained with the layer's own lines.</summary>
    public static string Chain(string below, IEnumerable<string> lines) => Hash(string.Join('\n', lines.Prepend(below)));

    public static string FileHash(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    /// <summary>The first characters of a key, for messages.</summary>
    public static string Short(string key) => key[..Math.Min(8, key.Length)] + "…";

    private static string Hash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();
}
