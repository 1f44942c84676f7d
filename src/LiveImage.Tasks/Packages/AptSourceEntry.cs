using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks.Packages;

/// <summary>When an extra apt source is in force: while the image is built, in the image it ships as, or both (live-build's *.list.chroot and *.list.binary).</summary>
internal enum AptSourceUse { Both, Build, Image }

/// <summary>
/// One <c>AptSource</c> item: an extra archive with its signing key, written as a deb822
/// <c>/etc/apt/sources.list.d/liveimage-NAME.sources</c> with the key beside it in
/// <c>/etc/apt/keyrings/</c>, so apt trusts that key for that source only (signed-by).
/// </summary>
internal sealed partial record AptSourceEntry(
    string Name, string Uri, string Suites, string Components, string? KeyPath, bool Trusted, AptSourceUse Use)
{
    /// <summary>The Key metadata as the project wrote it.</summary>
    public string KeyName { get; init; } = "";

    public string SourcesFile => $"etc/apt/sources.list.d/liveimage-{Name}.sources";

    /// <summary>The key's place in the image; its extension tells apt whether it is ASCII-armoured.</summary>
    public string? KeyFile => KeyPath is null ? null : $"etc/apt/keyrings/liveimage-{Name}{(IsArmoured(KeyPath) ? ".asc" : ".gpg")}";

    public bool InBuild => Use != AptSourceUse.Image;
    public bool InImage => Use != AptSourceUse.Build;

    /// <summary>The deb822 stanza (sources.list(5)).</summary>
    public string ToDeb822()
    {
        var text = new StringBuilder();
        text.Append("# LiveImage.Sdk: AptSource '").Append(Name).Append("'\n");
        text.Append("Types: deb\n");
        text.Append("URIs: ").Append(Uri).Append('\n');
        text.Append("Suites: ").Append(Suites).Append('\n');
        if (Components.Length > 0) text.Append("Components: ").Append(Components).Append('\n');
        if (KeyFile is not null) text.Append("Signed-By: /").Append(KeyFile).Append('\n');
        if (Trusted) text.Append("Trusted: yes\n");
        return text.ToString();
    }

    /// <summary>
    /// Reads an item (Include = name; Uri, Suites, Components, Key, Trusted, Use metadata). A
    /// problem comes back as a resource name and its arguments, for a coded error.
    /// </summary>
    public static (AptSourceEntry? Entry, string? Error, object[] Args) Parse(ITaskItem item, string defaultSuite, string projectDirectory)
    {
        var name = item.ItemSpec.Trim();
        if (!SourceName().IsMatch(name)) return (null, nameof(Strings.AptSourceInvalid), [name, "its name (the Include) must be lower-case letters, digits, '.', '_' or '-'"]);
        var uri = item.GetMetadata("Uri").Trim();
        var web = System.Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https" && parsed.Host.Length > 0;
        if (!web && !uri.StartsWith("file:/", StringComparison.Ordinal))
            return (null, nameof(Strings.AptSourceInvalid), [name, $"Uri '{uri}' is not an http://, https:// or file:/ URL of the archive"]);
        var suites = Words(item.GetMetadata("Suites"));
        if (suites.Length == 0) suites = defaultSuite;
        var components = Words(item.GetMetadata("Components"));
        // a flat repository ("Suites: ./") has no components; every other source needs one
        if (components.Length == 0 && !suites.EndsWith('/')) components = "main";
        if (suites.EndsWith('/') && components.Length > 0)
            return (null, nameof(Strings.AptSourceInvalid), [name, $"Suites '{suites}' is a flat repository path, which takes no Components"]);
        var use = item.GetMetadata("Use").Trim().ToLowerInvariant() switch
        {
            "" or "both" => AptSourceUse.Both,
            "build" => AptSourceUse.Build,
            "image" => AptSourceUse.Image,
            _ => (AptSourceUse?)null,
        };
        if (use is null) return (null, nameof(Strings.AptSourceInvalid), [name, $"Use '{item.GetMetadata("Use")}' is not build, image or both"]);
        var trusted = item.GetMetadata("Trusted").Equals("true", StringComparison.OrdinalIgnoreCase);

        string? keyPath = null;
        var key = item.GetMetadata("Key").Trim();
        if (key.Length > 0)
        {
            keyPath = Path.GetFullPath(key, projectDirectory);
            if (!File.Exists(keyPath)) return (null, nameof(Strings.AptSourceKey), [name, key, "does not exist"]);
            if (!IsOpenPgpKey(keyPath)) return (null, nameof(Strings.AptSourceKey), [name, key, "is not an OpenPGP public key (an ASCII-armoured .asc, or a binary keyring as 'gpg --export' writes it)"]);
        }
        return (new AptSourceEntry(name, uri, suites, components, keyPath, trusted, use.Value) { KeyName = key }, null, []);
    }

    /// <summary>An ASCII-armoured public key block, or binary OpenPGP packets starting with a public-key packet.</summary>
    internal static bool IsOpenPgpKey(string path)
    {
        if (IsArmoured(path)) return true;
        using var stream = File.OpenRead(path);
        var first = stream.ReadByte();
        // old-format packet tag 6 (0x98/0x99/0x9A) or new-format tag 6 (0xC6): a public key
        return first is 0x98 or 0x99 or 0x9A or 0xC6;
    }

    internal static bool IsArmoured(string path)
    {
        using var reader = new StreamReader(path);
        var head = new char[64];
        var read = reader.ReadBlock(head, 0, head.Length);
        return new string(head, 0, read).TrimStart().StartsWith("-----BEGIN PGP PUBLIC KEY BLOCK-----", StringComparison.Ordinal);
    }

    /// <summary>Writes the source file (and its key) below a layer directory, as root-owned 0644 files.</summary>
    public void WriteInto(string root)
    {
        var sources = Path.Combine(root, SourcesFile);
        Directory.CreateDirectory(Path.GetDirectoryName(sources)!);
        File.WriteAllText(sources, ToDeb822());
        File.SetUnixFileMode(sources, FileMode644);
        if (KeyPath is null || KeyFile is null) return;
        var keyFile = Path.Combine(root, KeyFile);
        Directory.CreateDirectory(Path.GetDirectoryName(keyFile)!);
        File.Copy(KeyPath, keyFile, overwrite: true);
        File.SetUnixFileMode(keyFile, FileMode644);
    }

    /// <summary>The item a task hands on: the name, with every metadata normalised.</summary>
    public ITaskItem ToItem()
    {
        var item = new Microsoft.Build.Utilities.TaskItem(Name);
        item.SetMetadata("Uri", Uri);
        item.SetMetadata("Suites", Suites);
        item.SetMetadata("Components", Components);
        item.SetMetadata("Key", KeyPath ?? "");
        // as the project wrote it: a moved project is no change, a different key file is
        item.SetMetadata("KeyName", KeyName);
        item.SetMetadata("Trusted", Trusted ? "true" : "false");
        item.SetMetadata("Use", Use.ToString().ToLowerInvariant());
        return item;
    }

    /// <summary>Reads an item <see cref="ToItem"/> wrote.</summary>
    public static AptSourceEntry FromItem(ITaskItem item) => new(
        item.ItemSpec, item.GetMetadata("Uri"), item.GetMetadata("Suites"), item.GetMetadata("Components"),
        item.GetMetadata("Key") is { Length: > 0 } key ? key : null,
        item.GetMetadata("Trusted") == "true",
        Enum.Parse<AptSourceUse>(item.GetMetadata("Use"), ignoreCase: true));

    private const UnixFileMode FileMode644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private static string Words(string value) => string.Join(' ', value.Split([';', ',', ' '], StringSplitOptions.RemoveEmptyEntries));

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*$")]
    private static partial Regex SourceName();
}
