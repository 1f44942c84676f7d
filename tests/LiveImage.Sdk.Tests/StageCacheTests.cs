namespace LiveImage.Sdk.Tests;

/// <summary>
/// Issue 16's stage cache on a copy of the built minimal sample, whose cold build filled a stage
/// cache of its own: a clean rebuild restores every stage (the same layers, owners, modes, xattrs,
/// devices and whiteouts, and the same ISO, byte for byte); a hook edit after the restore reruns
/// only that hook and what is above it; both opt-outs; eviction. One copy, in steps, to keep the
/// cost to one restore and a few one-hook builds (-t:LiveImageHooks).
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed class StageCacheTests(MinimalImageFixture image, ITestOutputHelper output)
{
    private const string Hook = "0100-motd.sh";
    private static readonly string[] Stages = ["bootstrap", "configure", "packages", "includes", "finalize", "squash"];

    [Fact]
    public void CleanRebuildRestoresEveryStageAndAHookEditRerunsOnlyThatHook()
    {
        var copy = image.CopyOfBuiltImage("cache-restore");
        // the fixture's cache stays as it is for others: this test evicts from a copy of it
        var cache = Path.Combine(image.Workspace.Root, "cache-restore-entries");
        var (code, text) = Tools.Run("cp", "-a", image.StageCacheDirectory, cache);
        Assert.True(code == 0, text);
        var withCache = new[] { "-p:StageCache=true", $"-p:StageCacheDirectory={cache}/" };
        Tools.Run("rm", "-rf", Path.Combine(copy, "obj"), Path.Combine(copy, "bin"));

        // 1. clean rebuild: every stage restored, nothing run but the ISO; the cold build stored its stages before it
        // wrote the lock file this copy has, so the stages that take the lock are restored from their entries without it
        var clean = image.Workspace.Build(copy, output, withCache);
        Assert.True(clean.Succeeded, "the clean rebuild failed");
        Assert.True(File.Exists(Path.Combine(copy, "packages.lock.amd64")));
        foreach (var stage in Stages) Assert.Matches($@"{stage} \[amd64\]: restored from the stage cache( \([^)]*\))?, key [0-9a-f]{{8}}…, [0-9.]+ s", clean.Output);
        foreach (var stage in new[] { "bootstrap", "packages" })
            Assert.Contains($"{stage} [amd64]: restored from the stage cache (its entry from before the package lock, the same versions), key ", clean.Output);
        Assert.Matches($@"hook {Hook} \[amd64\]: restored from the stage cache, key [0-9a-f]{{8}}…", clean.Output);
        Assert.DoesNotContain("mmdebstrap", clean.Output.Split('\n').Where(l => l.Contains("[amd64]: ")));
        Assert.Equal(Tools.LayerListing(Layers(image.ProjectDirectory)), Tools.LayerListing(Layers(copy)));
        Assert.True(File.ReadAllBytes(image.IsoPath).AsSpan().SequenceEqual(File.ReadAllBytes(Iso(copy))), "the restored build's ISO differs from the cold build's");

        // 2. a hook edit after the restore reruns that hook only (and stores it)
        var hook = Path.Combine(copy, "hooks", Hook);
        var original = File.ReadAllText(hook);
        File.AppendAllText(hook, "echo edited >> \"$1/etc/motd\"\n");
        var edited = image.Workspace.Build(copy, output, [.. withCache, "-t:LiveImageHooks"]);
        Assert.True(edited.Succeeded);
        Assert.Contains($"hook {Hook} [amd64]: on the host side", edited.Output);
        Assert.Contains($"hook {Hook} [amd64]: stored in the stage cache", edited.Output);
        foreach (var stage in Stages.Take(4)) Assert.DoesNotContain($"{stage} [amd64]:", edited.Output);

        // 3. StageCache=false: the original hook is in the cache, and still runs
        File.WriteAllText(hook, original);
        var off = image.Workspace.Build(copy, output, [.. withCache, "-p:StageCache=false", "-t:LiveImageHooks"]);
        Assert.True(off.Succeeded);
        Assert.Contains($"hook {Hook} [amd64]: on the host side", off.Output);
        Assert.DoesNotContain("restored from the stage cache", off.Output);

        // 4. a hook with StageCache="false" runs although its key is in the cache, and takes the stages above out of it
        File.AppendAllText(hook, "echo edited >> \"$1/etc/motd\"\n");
        MinimalImageFixture.AddItems(copy, $"""<Hook Include="hooks/{Hook}" StageCache="false" />""");
        var optOut = image.Workspace.Build(copy, output, [.. withCache, "-t:LiveImageHooks"]);
        Assert.True(optOut.Succeeded);
        Assert.Contains($"hook {Hook} [amd64]: on the host side", optOut.Output);
        Assert.DoesNotContain("restored from the stage cache", optOut.Output);
        Assert.DoesNotContain("stored in the stage cache", optOut.Output);
        Assert.Equal("uncacheable", File.ReadAllText(Path.Combine(copy, "obj/Release/amd64/hooks.inputs.key")).Trim());

        // 5. eviction: over StageCacheSize, the least recently used entries go after a store
        var project = Path.Combine(copy, "debian-live-minimal.liveproj");
        File.WriteAllText(project, File.ReadAllText(project).Replace("StageCache=\"false\"", "StageCache=\"true\""));
        File.AppendAllText(hook, "echo again >> \"$1/etc/motd\"\n");
        var evicting = image.Workspace.Build(copy, output, [.. withCache, "-p:StageCacheSize=1M", "-t:LiveImageHooks"]);
        Assert.True(evicting.Succeeded);
        Assert.Contains("stage cache: evicted ", evicting.Output);
        var left = Directory.GetFiles(cache, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.True(left <= 1024 * 1024, $"the stage cache still holds {left} bytes");
    }

    /// <summary>
    /// Between machines, through a real registry (Debian's docker-registry) on 127.0.0.1: a copy pushes
    /// every stage; a fresh copy with an empty local cache pulls them all but one whose blob was damaged
    /// in the registry's storage (LIVE1094: that stage runs) and makes the same ISO; with the registry
    /// stopped, a build warns (LIVE1093) and succeeds.
    /// </summary>
    [Fact]
    public void StagesTravelThroughARegistryWhichMayBeDownOrDamaged()
    {
        var root = Path.Combine(image.Workspace.Root, "registry");
        using var registry = RegistryServer.Start(root);
        var location = $"http://127.0.0.1:{registry.Port}/liveimage/stages";

        // 1. push: a clean rebuild from the fixture's local cache sends every stage the registry lacks
        var pusher = image.CopyOfBuiltImage("cache-pusher");
        Tools.Run("rm", "-rf", Path.Combine(pusher, "obj"), Path.Combine(pusher, "bin"));
        var push = image.Workspace.Build(pusher, output, "-p:StageCache=true", $"-p:StageCacheDirectory={image.StageCacheDirectory}/",
            $"-p:StageCacheRegistry={location}", "-p:StageCacheRegistryMode=push");
        Assert.True(push.Succeeded, "the pushing build failed");
        foreach (var stage in Stages) Assert.Contains($"{stage} [amd64]: pushed to 127.0.0.1:{registry.Port}, key ", push.Output);

        // 2. damage the includes stage's archive in the registry's storage
        var includesKey = File.ReadAllText(Path.Combine(pusher, "obj/Release/amd64/includes.inputs.key")).Trim();
        registry.DamageBlob("liveimage/stages", includesKey, "layer.tar.zst");

        // 3. pull into a fresh copy (no obj/) with an empty local cache
        var puller = image.Workspace.CopySample("debian-live-minimal", "cache-puller");
        var pullerCache = Path.Combine(image.Workspace.Root, "cache-puller-entries");
        var pull = image.Workspace.Build(puller, output, "-p:StageCache=true", $"-p:StageCacheDirectory={pullerCache}/", $"-p:StageCacheRegistry={location}");
        Assert.True(pull.Succeeded, "the pulling build failed");
        foreach (var stage in Stages.Where(s => s != "includes"))
            Assert.Contains($"{stage} [amd64]: restored from the stage cache (pulled from 127.0.0.1:{registry.Port}), key ", pull.Output);
        Assert.Contains("warning LIVE1094", pull.Output);
        Assert.Contains("includes [amd64]: runs because", pull.Output);
        Assert.True(File.ReadAllBytes(image.IsoPath).AsSpan().SequenceEqual(File.ReadAllBytes(Iso(puller))), "the pulled build's ISO differs from the cold build's");

        // 4. the registry is down: a warning, and the build goes on
        registry.Dispose();
        Tools.Run("rm", "-rf", Path.Combine(puller, "obj"), Path.Combine(puller, "bin"));
        var down = image.Workspace.Build(puller, output, "-p:StageCache=true", $"-p:StageCacheDirectory={pullerCache}/", $"-p:StageCacheRegistry={location}", "-p:StageCacheRegistryMode=both");
        Assert.True(down.Succeeded, "a build with its registry down failed");
        Assert.Contains("warning LIVE1093", down.Output);
    }

    /// <summary>
    /// A registry that asks for credentials (docker-registry with htpasswd: HTTP basic over plain http on
    /// 127.0.0.1), on one copy whose hook is edited and reverted in turn, so the hook alone is out of date and
    /// runs once: a push with LIVEIMAGE_REGISTRY_USERNAME/PASSWORD; a restore from the local cache whose push
    /// is refused for a wrong password (LIVE1096: the build goes on); a pull into an empty local cache with
    /// Docker's config.json (DOCKER_CONFIG, as docker login writes it); a push with no credentials anywhere
    /// (LIVE1096, saying where credentials are read from); credentials in the registry's URL (LIVE1095).
    /// No build log holds a password.
    /// </summary>
    [Fact]
    public void ARegistryThatAsksForCredentialsGetsThemFromTheEnvironmentOrDockersConfig()
    {
        const string user = "ci-user", password = "s3cret-Pa55", wrongPassword = "wr0ng-Pa55";
        var root = Path.Combine(image.Workspace.Root, "registry-login");
        using var registry = RegistryServer.Start(root, (user, password));
        var host = $"127.0.0.1:{registry.Port}";
        var location = $"http://{host}/liveimage/stages";
        var copy = image.CopyOfBuiltImage("cache-login");
        var hook = Path.Combine(copy, "hooks", Hook);
        var original = File.ReadAllText(hook);
        var edited = original + "echo login >> \"$1/etc/motd\"\n";
        var noDockerConfig = Directory.CreateDirectory(Path.Combine(root, "no-docker-config")).FullName;
        string[] secrets = [password, wrongPassword, Base64($"{user}:{password}"), Base64($"{user}:{wrongPassword}")];
        BuildResult Build(string cache, string mode, string? username, string? secret, string dockerConfig, string registryLocation = "")
        {
            var result = image.Workspace.Run(copy, output, [], ["build", "-nodeReuse:false", "-tl:off", "-v:n", "-nologo", "-t:LiveImageHooks",
                "-p:StageCache=true", $"-p:StageCacheDirectory={cache}/", $"-p:StageCacheRegistry={(registryLocation.Length > 0 ? registryLocation : location)}", $"-p:StageCacheRegistryMode={mode}"],
                new Dictionary<string, string?> { ["LIVEIMAGE_REGISTRY_USERNAME"] = username, ["LIVEIMAGE_REGISTRY_PASSWORD"] = secret, ["DOCKER_CONFIG"] = dockerConfig });
            foreach (var s in secrets) Assert.DoesNotContain(s, result.Output);
            return result;
        }
        var places = "LIVEIMAGE_REGISTRY_USERNAME and LIVEIMAGE_REGISTRY_PASSWORD, else the registry's entry in the \"auths\" of $DOCKER_CONFIG/config.json or ~/.docker/config.json";

        // 1. push with credentials from the environment: the edited hook runs and is pushed
        File.WriteAllText(hook, edited);
        var push = Build(Path.Combine(image.Workspace.Root, "cache-login-entries"), "push", user, password, noDockerConfig);
        Assert.True(push.Succeeded, "the pushing build failed");
        Assert.Contains($"hook {Hook} [amd64]: on the host side", push.Output);
        Assert.Contains($"hook {Hook} [amd64]: pushed to {host}, key ", push.Output);
        Assert.DoesNotContain("warning LIVE109", push.Output);

        // 2. a wrong password: the original hook is restored from the fixture's local cache, and its push is refused
        File.WriteAllText(hook, original);
        var wrong = Build(image.StageCacheDirectory, "push", user, wrongPassword, noDockerConfig);
        Assert.True(wrong.Succeeded, "a build whose registry refuses its password failed");
        Assert.Contains($"hook {Hook} [amd64]: restored from the stage cache, key ", wrong.Output);
        Assert.Contains($"warning LIVE1096: hook {Hook} [amd64]: the stage cache registry '{location}' refuses this build (HTTP 401: it refuses the credentials for {host} from LIVEIMAGE_REGISTRY_USERNAME/PASSWORD)", wrong.Output);
        Assert.DoesNotContain("pushed to", wrong.Output);
        Assert.DoesNotContain("LIVE1093", wrong.Output);

        // 3. pull with Docker's config.json into an empty local cache: the edited hook comes from the registry
        File.WriteAllText(hook, edited);
        var dockerConfig = Directory.CreateDirectory(Path.Combine(root, "docker-config")).FullName;
        File.WriteAllText(Path.Combine(dockerConfig, "config.json"), $$"""{ "auths": { "{{host}}": { "auth": "{{Base64($"{user}:{password}")}}" } } }""");
        var pull = Build(Path.Combine(image.Workspace.Root, "cache-login-pulled"), "pull", null, null, dockerConfig);
        Assert.True(pull.Succeeded, "the pulling build failed");
        Assert.Contains($"hook {Hook} [amd64]: restored from the stage cache (pulled from {host}), key ", pull.Output);
        Assert.DoesNotContain("on the host side", pull.Output);
        Assert.DoesNotContain("warning LIVE109", pull.Output);

        // 4. no credentials anywhere: refused, and the warning says where they are read from
        File.WriteAllText(hook, original);
        var none = Build(image.StageCacheDirectory, "both", null, null, noDockerConfig);
        Assert.True(none.Succeeded, "a build without the registry's credentials failed");
        Assert.Contains($"hook {Hook} [amd64]: restored from the stage cache, key ", none.Output);
        // pulling, the hooks stage's own key is looked up in the registry first
        Assert.Contains($"warning LIVE1096: hooks [amd64]: the stage cache registry '{location}' refuses this build (HTTP 401: it asks for credentials and none were found for {host})", none.Output);
        Assert.Contains(places, none.Output);

        // 5. credentials in the registry's URL are the project's: refused before any request
        File.WriteAllText(hook, edited);
        var inUrl = Build(image.StageCacheDirectory, "pull", null, null, noDockerConfig, $"http://{user}:in-url@{host}/liveimage/stages");
        Assert.False(inUrl.Succeeded, "a registry URL with credentials was accepted");
        Assert.Contains("error LIVE1095", inUrl.Output);
    }

    private static string Base64(string text) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text));

    private static string Iso(string project) => Path.Combine(project, "bin/Release/amd64/debian-live-minimal-1.0.0-amd64.iso");

    private static string Layers(string project) => Path.Combine(project, "obj/Release/amd64/layers");
}
