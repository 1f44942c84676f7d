using LiveImage.Tasks.BootTesting;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Disk;
using LiveImage.Tasks.Iso;
using Xunit;

namespace LiveImage.Tasks.Tests;

/// <summary>
/// Keeping the running system's changes, without root or an image: the modules stacked on top of the
/// ISO tree, the persistence partition's table entry, the LiveModule checks and the boot test's disks.
/// </summary>
public sealed class KeepChangesTests
{
    private static readonly byte[] SquashfsMagic = "hsqs"u8.ToArray();

    [Fact]
    public void A_module_goes_on_top_of_a_merged_image_and_leaves_again_when_removed()
    {
        using var dir = new TempDirectory();
        var live = Path.Combine(dir.Path, "live");
        dir.File("live/filesystem.squashfs", "root");
        var module = dir.File("saved/mychanges.squashfs", "hsqs changes");
        var record = Path.Combine(dir.Path, "obj/live-modules.txt");

        var stack = TopModules.Stack(live, [new TopModule(module, "mychanges.squashfs")], record);

        Assert.Equal(["filesystem.squashfs", "mychanges.squashfs"], stack);
        Assert.Equal(["filesystem.squashfs", "mychanges.squashfs"], File.ReadAllLines(Path.Combine(live, "filesystem.module")));
        Assert.Equal("hsqs changes", File.ReadAllText(Path.Combine(live, "mychanges.squashfs")));

        TopModules.Stack(live, [], record);

        Assert.False(File.Exists(Path.Combine(live, "mychanges.squashfs")));
        Assert.False(File.Exists(Path.Combine(live, "filesystem.module")), "an image of one squashfs needs no list");
    }

    [Fact]
    public void A_module_goes_on_top_of_a_modular_image_whose_own_list_stays_the_bottom()
    {
        using var dir = new TempDirectory();
        var live = Path.Combine(dir.Path, "live");
        dir.File("live/base.squashfs", "a");
        dir.File("live/base-console.squashfs", "b");
        dir.File("live/filesystem.module", "base.squashfs\nbase-console.squashfs\n");
        var record = Path.Combine(dir.Path, "live-modules.txt");

        TopModules.Stack(live, [new TopModule(dir.File("one.squashfs", "1"), "one.squashfs")], record);
        var stack = TopModules.Stack(live, [new TopModule(dir.File("two.squashfs", "2"), "two.squashfs")], record);

        Assert.Equal(["base.squashfs", "base-console.squashfs", "two.squashfs"], stack);
        Assert.False(File.Exists(Path.Combine(live, "one.squashfs")));
    }

    [Fact]
    public void A_module_named_like_one_of_the_image_is_LIVE1067()
    {
        using var dir = new TempDirectory();
        var live = Path.Combine(dir.Path, "live");
        dir.File("live/base.squashfs", "a");
        dir.File("live/filesystem.module", "base.squashfs\n");

        var e = Assert.Throws<LiveImageException>(() =>
            TopModules.Stack(live, [new TopModule(dir.File("saved/base.squashfs", "x"), "base.squashfs")], Path.Combine(dir.Path, "r.txt")));

        Assert.StartsWith("LIVE1067", e.Message);
        Assert.Contains("saved/base.squashfs", e.Message);
    }

    [Fact]
    public void A_squashfs_is_told_by_its_magic()
    {
        using var dir = new TempDirectory();
        var good = Path.Combine(dir.Path, "good.squashfs");
        File.WriteAllBytes(good, [.. SquashfsMagic, 0, 0, 0, 0]);

        Assert.True(CheckLiveModules.IsSquashfs(good));
        Assert.False(CheckLiveModules.IsSquashfs(dir.File("text.squashfs", "not one")));
        Assert.False(CheckLiveModules.IsSquashfs(dir.File("empty.squashfs", "")));
    }

    [Fact]
    public void LiveModule_items_that_are_missing_not_squashfs_or_badly_named_are_coded_errors_naming_them()
    {
        using var dir = new TempDirectory();
        var notSquashfs = dir.File("notes.squashfs", "some text");
        var wrongName = Path.Combine(dir.Path, "changes.img");
        File.WriteAllBytes(wrongName, SquashfsMagic);
        var engine = new FakeBuildEngine();
        var task = new CheckLiveModules
        {
            BuildEngine = engine,
            Modules = [Items.Item(Path.Combine(dir.Path, "missing.squashfs")), Items.Item(notSquashfs), Items.Item(wrongName)],
        };

        Assert.False(task.Execute());

        Assert.Contains(engine.Errors, e => e.Code == "LIVE1065" && e.Message!.Contains("missing.squashfs"));
        Assert.Contains(engine.Errors, e => e.Code == "LIVE1066" && e.Message!.Contains("notes.squashfs") && e.Message.Contains("'some'"));
        Assert.Contains(engine.Errors, e => e.Code == "LIVE1067" && e.Message!.Contains("changes.img"));
    }

    [Fact]
    public void The_persistence_partition_goes_in_the_first_free_slot_after_the_iso_1_MiB_aligned()
    {
        using var dir = new TempDirectory();
        var disk = Path.Combine(dir.Path, "live.img");
        // an isohybrid MBR as xorriso writes it: 1 = the whole ISO (type 0, from sector 0), 2 = the EFI image inside it
        var sector = new byte[512];
        MbrPartitionTable.Write(sector, new MbrPartition(1, 0x00, 0, 2000));
        MbrPartitionTable.Write(sector, new MbrPartition(2, 0xEF, 172, 100));
        sector[510] = 0x55;
        sector[511] = 0xAA;
        using (var f = File.Create(disk))
        {
            f.Write(sector);
            f.SetLength(1000 * 512 + 7);
        }

        var added = MakePersistentDisk.AddPartition(disk, 8L * 1024 * 1024);

        Assert.Equal(new MbrPartition(3, 0x83, 2048, 16384), added);
        Assert.Equal((2048 + 16384) * 512L, new FileInfo(disk).Length);
        var table = MbrPartitionTable.Read(File.ReadAllBytes(disk).AsSpan(0, 512));
        Assert.Equal([1, 2, 3], table.Select(p => p.Slot));
        Assert.Equal(added, table[2]);
    }

    [Fact]
    public void A_file_without_a_partition_table_or_with_a_protective_one_is_LIVE4040()
    {
        using var dir = new TempDirectory();
        var plain = dir.File("plain.iso", new string('x', 4096));
        var protective = Path.Combine(dir.Path, "gpt.iso");
        var sector = new byte[4096];
        MbrPartitionTable.Write(sector, new MbrPartition(1, MbrPartitionTable.GptProtective, 1, 7));
        sector[510] = 0x55;
        sector[511] = 0xAA;
        File.WriteAllBytes(protective, sector);

        foreach (var disk in new[] { plain, protective })
            Assert.StartsWith("LIVE4040", Assert.Throws<LiveImageException>(() => MakePersistentDisk.AddPartition(disk, 8L * 1024 * 1024)).Message);
    }

    [Fact]
    public void A_disk_image_is_written_to_and_an_extra_disk_is_a_second_virtio_disk()
    {
        var launch = new QemuLaunch(QemuMachine.Amd64, QemuBootMode.BiosUsb, QemuAccel.Tcg, "/d/live.img", 2048, 2, "", "")
        {
            Writable = true,
            ExtraDisk = "/d/extra,1.img",
        };

        var text = string.Join(' ', QemuCommandLine.Build(launch));

        Assert.Contains("if=none,id=live,format=raw,file=/d/live.img", text);
        Assert.DoesNotContain("snapshot=on", text);
        Assert.Contains("-drive if=none,id=extra,format=raw,file=/d/extra,,1.img -device virtio-blk-pci,drive=extra", text);
    }
}
