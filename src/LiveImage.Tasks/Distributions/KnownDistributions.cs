using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Distributions.Debian;

namespace LiveImage.Tasks.Distributions;

/// <summary>The distributions an image can be built from, by the name the Distribution property gives.</summary>
internal static class KnownDistributions
{
    public const string Default = "debian";

    private static readonly IDistribution[] All = [new DebianDistribution()];

    public static string Names => string.Join(", ", All.Select(d => d.Name));

    public static IDistribution? Find(string name) =>
        All.FirstOrDefault(d => string.Equals(d.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>The distribution, or LIVE1040 naming the ones there are.</summary>
    public static IDistribution Get(string name) =>
        Find(name.Length == 0 ? Default : name) ?? throw new LiveImageException(nameof(Strings.UnknownDistribution), name, Names);
}
