using LiveImage.Tasks.Reproducibility;

namespace LiveImage.Tasks.Tests;

/// <summary>
/// -t:VerifyReproducible's naming of what differs inside two images: their listings (unsquashfs -lln,
/// xorriso's lsdl) by path, and the extracted trees' contents.
/// </summary>
public sealed class ReproducibleTests
{
    [Fact]
    public void Unsquashfs_listings_are_keyed_by_path_inside_the_file_system()
    {
        var listing = TreeDifference.ParseUnsquashfsListing("""
            Parallel unsquashfs: Using 2 processors
            drwxr-xr-x 0/0                 117 2026-11-21 09:15 squashfs-root
            -rw-r--r-- 0/0                   7 2026-11-21 09:15 squashfs-root/etc/hostname
            lrwxrwxrwx 0/0                   7 2026-11-21 09:15 squashfs-root/bin -> usr/bin
            """);
        Assert.Equal(["/", "/etc/hostname", "/bin"], listing.Keys);
        Assert.Contains("0/0", listing["/etc/hostname"]);
    }

    [Fact]
    public void Xorriso_listings_are_keyed_by_path()
    {
        var listing = TreeDifference.ParseXorrisoListing("""
            dr-xr-xr-x    1 0        0               0 Nov 21 2026 '/'
            -r--r--r--    1 0        0            1234 Nov 21 2026 '/isolinux/isolinux.cfg'
            xorriso : NOTE : Loading ISO image tree
            """);
        Assert.Equal(["/", "/isolinux/isolinux.cfg"], listing.Keys);
    }

    [Fact]
    public void Paths_names_entries_that_differ_in_metadata_or_content_or_exist_once()
    {
        using var first = new TempDirectory();
        using var second = new TempDirectory();
        first.File("etc/same", "x");
        second.File("etc/same", "x");
        first.File("etc/build-date", "Sat Nov 28 23:00:01 UTC 2026");
        second.File("etc/build-date", "Sat Nov 28 23:05:42 UTC 2026");
        var a = new Dictionary<string, string> { ["/etc/same"] = "-rw 0/0 1", ["/etc/build-date"] = "-rw 0/0 28", ["/etc/mode"] = "-rw 0/0 0", ["/etc/only-first"] = "-rw" };
        var b = new Dictionary<string, string> { ["/etc/same"] = "-rw 0/0 1", ["/etc/build-date"] = "-rw 0/0 28", ["/etc/mode"] = "-rwx 0/0 0" };
        Assert.Equal(["/etc/build-date", "/etc/mode", "/etc/only-first"], TreeDifference.Paths(a, b, first.Path, second.Path));
    }

    [Fact]
    public void A_reproducible_image_salts_the_live_users_password_from_its_date_user_and_password()
    {
        var salt = Configuration.Sha512Crypt.SaltFrom("1795252544:user:live");
        Assert.Equal(salt, Configuration.Sha512Crypt.SaltFrom("1795252544:user:live"));
        Assert.NotEqual(salt, Configuration.Sha512Crypt.SaltFrom("1795252545:user:live"));
        Assert.Matches("^[./0-9A-Za-z]{16}$", salt);
        Assert.True(Configuration.Sha512Crypt.Verify("live", Configuration.Sha512Crypt.Hash("live", salt)));
    }
}
