using LiveImage.Tasks.BootTesting;
using LiveImage.Tasks.Packages;

namespace LiveImage.Tasks.Tests;

/// <summary>
/// The parsers behind live-build's habits (package list files, preseed lines), the names of the boot test's
/// per-check JUnit test cases, and the keys that choose a boot menu entry.
/// </summary>
public sealed class LiveBuildHabitsTests
{
    [Fact]
    public void A_package_list_takes_several_names_a_line_comments_blank_lines_and_pins()
    {
        var (packages, problems) = PackageListFile.Parse(["# a comment", "", "  tree less=668-1\t# trailing comment", "vim:amd64", "#includes: only a comment"]);
        Assert.Equal([("tree", 3), ("less=668-1", 3), ("vim:amd64", 4)], packages.Select(p => (p.Package, p.Line)));
        Assert.Empty(problems);
    }

    [Fact]
    public void A_package_list_reports_bad_tokens_and_live_build_directives_with_their_lines()
    {
        var (packages, problems) = PackageListFile.Parse(["tree", "Bad_Name less", "#include <other.list>", "# if ARCHITECTURES amd64", "! grep-aptavail -n", "x", "tree="]);
        Assert.Equal(["tree", "less"], packages.Select(p => p.Package));
        Assert.Equal([(2, "Bad_Name", false), (3, "#include", true), (4, "# if", true), (5, "!", true), (6, "x", false), (7, "tree=", false)],
            problems.Select(p => (p.Line, p.Token, p.IsDirective)));
    }

    [Theory]
    [InlineData("tzdata tzdata/Areas select Europe", "tzdata", "tzdata/Areas", "select", "Europe")]
    [InlineData("locales locales/locales_to_be_generated multiselect en_US.UTF-8 UTF-8, de_DE.UTF-8 UTF-8", "locales", "locales/locales_to_be_generated", "multiselect", "en_US.UTF-8 UTF-8, de_DE.UTF-8 UTF-8")]
    [InlineData("d-i\tpasswd/root-login  boolean false", "d-i", "passwd/root-login", "boolean", "false")]
    [InlineData("foo foo/empty string", "foo", "foo/empty", "string", "")]
    public void A_preseed_line_is_owner_question_type_and_the_rest_as_value(string line, string owner, string question, string type, string value)
    {
        var (number, selection, problem) = Assert.Single(DebconfSelection.ParseFile([line]));
        Assert.Null(problem);
        Assert.Equal(1, number);
        Assert.Equal(new DebconfSelection(owner, question, type, value), selection);
    }

    [Fact]
    public void A_preseed_file_skips_comments_joins_continued_lines_and_names_the_line_at_fault()
    {
        var parsed = DebconfSelection.ParseFile(["# comment", "", "kb kb/xkb-keymap \\", "   select de", "a a/b unknown x", "a a/b boolean yes", "lonely", "Owner_Bad a/b string x", "a nosslash string x"]);
        Assert.Equal([3, 5, 6, 7, 8, 9], parsed.Select(p => p.Line));
        Assert.Equal("kb kb/xkb-keymap select de", parsed[0].Selection!.Line);
        Assert.Contains("the type 'unknown'", parsed[1].Problem);
        Assert.Contains("must be true or false, not 'yes'", parsed[2].Problem);
        Assert.Contains("fewer than the three fields", parsed[3].Problem);
        Assert.Contains("the owner 'Owner_Bad'", parsed[4].Problem);
        Assert.Contains("the question 'nosslash'", parsed[5].Problem);
        Assert.All(parsed.Skip(1), p => Assert.Null(p.Selection));
    }

    [Fact]
    public void Each_check_of_a_boot_is_a_test_case_of_its_own()
    {
        BootCaseResult[] cases =
        [
            new("bios-cdrom", BootOutcome.Passed, 90),
            new("bios-cdrom", BootOutcome.Passed, 1.5, Check: "id"),
            new("bios-cdrom", BootOutcome.Failed, 2, Code: "LIVE5003", Message: "LIVE5003: Boot check 'apt sources' failed", Check: "apt sources"),
        ];
        var xml = JUnitReport.Build("img", "amd64", cases, DateTime.UtcNow);
        var testcases = xml.Descendants("testcase").ToList();
        Assert.Equal(["bios-cdrom", "bios-cdrom: id", "bios-cdrom: apt sources"], testcases.Select(t => t.Attribute("name")!.Value));
        Assert.Equal("1", xml.Root!.Attribute("failures")!.Value);
        Assert.Single(testcases[2].Elements("failure"));
    }

    [Fact]
    public void A_menu_entry_is_chosen_with_each_boot_loaders_own_down_key()
    {
        var entry = new QemuMenuEntry("rescue", "Rescue shell", 4, "systemd.unit=rescue.target");
        Assert.Equal("\x0e\x0e\x0e\x0e\r", entry.Keys(QemuFirmware.Bios));
        Assert.Equal("vvvv\r", entry.Keys(QemuFirmware.Uefi));
        var mode = QemuBootMode.BiosCdrom.WithMenuEntry(entry);
        Assert.Equal("bios-cdrom-rescue", mode.Name);
        Assert.Equal(QemuFirmware.Bios, mode.Firmware);
        Assert.Null(QemuBootMode.BiosCdrom.MenuEntry);
    }
}
