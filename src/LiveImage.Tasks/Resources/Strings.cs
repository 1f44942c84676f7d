using System.Globalization;
using System.Resources;

namespace LiveImage.Tasks;

/// <summary>
/// Access to Strings.resx; resource names are used with nameof(Strings.X). The X constants are
/// generated from the .resx at build time (LiveImage.Tasks.csproj), so a misspelt name fails to compile.
/// </summary>
internal static partial class Strings
{
    public static ResourceManager Manager { get; } =
        new("LiveImage.Tasks.Resources.Strings", typeof(Strings).Assembly);

    public static string Format(string name, params object[] args) =>
        string.Format(CultureInfo.CurrentCulture, Manager.GetString(name, CultureInfo.CurrentUICulture) ?? name, args);
}
