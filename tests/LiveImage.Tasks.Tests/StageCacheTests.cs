using LiveImage.Tasks.Processes;
using LiveImage.Tasks.StageCache;

namespace LiveImage.Tasks.Tests;

public sealed class StageKeyTests
{
    private static string? Key(TempDirectory dir, string inputs = "Suite=trixie\n", string logic = "1", string[]? extras = null) =>
        StageKey.Compute("configure", logic, inputs, [Path.Combine(dir.Path, "bootstrap.stamp"), Path.Combine(dir.Path, "hook.sh")], extras ?? []);

    private static TempDirectory Below(string key = "abc")
    {
        var dir = new TempDirectory();
        dir.File("bootstrap.stamp", Guid.NewGuid().ToString());
        dir.File("bootstrap.inputs.key", key + "\n");
        dir.File("hook.sh", "echo hi\n");
        return dir;
    }

    [Fact]
    public void SameInputsGiveTheSameKeyWhateverTheStampSays()
    {
        using var dir = Below();
        var first = Key(dir);
        File.WriteAllText(Path.Combine(dir.Path, "bootstrap.stamp"), Guid.NewGuid().ToString());
        Assert.NotNull(first);
        Assert.Equal(first, Key(dir));
        Assert.Equal(64, first!.Length);
    }

    [Fact]
    public void EveryPartOfTheKeyChangesIt()
    {
        using var dir = Below();
        var first = Key(dir);
        Assert.NotEqual(first, Key(dir, inputs: "Suite=forky\n"));
        Assert.NotEqual(first, Key(dir, logic: "2"));
        Assert.NotEqual(first, Key(dir, extras: ["release x_InRelease Sat, 28 Nov 2026 08:00:00 UTC"]));
        File.AppendAllText(Path.Combine(dir.Path, "hook.sh"), "echo more\n");
        var edited = Key(dir);
        Assert.NotEqual(first, edited);
        File.WriteAllText(Path.Combine(dir.Path, "bootstrap.inputs.key"), "def\n");
        Assert.NotEqual(edited, Key(dir));
    }

    [Fact]
    public void NoKeyAboveAnUncacheableOrUnkeyedStage()
    {
        using var dir = Below(StageKey.Uncacheable);
        Assert.Null(Key(dir));
        File.Delete(Path.Combine(dir.Path, "bootstrap.inputs.key"));
        Assert.Null(Key(dir));
    }

    [Fact]
    public void KeyFilesSitBesideTheStamps()
    {
        Assert.Equal("/o/bootstrap.inputs.key", StageKey.FileFor("/o/bootstrap.inputs.cache"));
        Assert.Equal("/o/bootstrap.inputs.key", StageKey.FileBesideStamp("/o/bootstrap.stamp"));
    }

    [Fact]
    public void ChainedKeysDependOnTheirOrder() =>
        Assert.NotEqual(StageKey.Chain(StageKey.Chain("base", ["a"]), ["b"]), StageKey.Chain(StageKey.Chain("base", ["b"]), ["a"]));
}

public sealed class LocalStageCacheTests
{
    private static string Entry(LocalStageCache cache, string key, int bytes, DateTime used)
    {
        var temporary = cache.Begin(key);
        File.WriteAllBytes(Path.Combine(temporary, LayerArchive.FileName), new byte[bytes]);
        cache.Commit(temporary, key);
        var entry = Path.Combine(cache.Root, key);
        Directory.SetLastWriteTimeUtc(entry, used);
        return entry;
    }

    [Fact]
    public void AnEntryBeingWrittenIsNotAnEntry()
    {
        using var dir = new TempDirectory();
        var cache = new LocalStageCache(dir.Path);
        var temporary = cache.Begin("k1");
        File.WriteAllText(Path.Combine(temporary, LayerArchive.FileName), "half");
        Assert.Null(cache.Find("k1"));
        Assert.Empty(cache.Entries());
        cache.Commit(temporary, "k1");
        Assert.NotNull(cache.Find("k1"));
        Assert.False(Directory.Exists(temporary));
    }

    [Fact]
    public void TheFirstOfTwoBuildsStoringOneKeyWins()
    {
        using var dir = new TempDirectory();
        var cache = new LocalStageCache(dir.Path);
        var first = cache.Begin("k");
        var second = cache.Begin("k");
        File.WriteAllText(Path.Combine(first, "f"), "first");
        File.WriteAllText(Path.Combine(second, "f"), "second");
        cache.Commit(first, "k");
        cache.Commit(second, "k");
        Assert.Equal("first", File.ReadAllText(Path.Combine(cache.Find("k")!, "f")));
        Assert.Single(Directory.GetDirectories(dir.Path));
    }

    [Fact]
    public void EvictionRemovesTheLeastRecentlyUsedFirst()
    {
        using var dir = new TempDirectory();
        var cache = new LocalStageCache(dir.Path);
        var now = DateTime.UtcNow;
        var oldest = Entry(cache, "a", 1000, now.AddHours(-3));
        var used = Entry(cache, "b", 1000, now.AddHours(-2));
        var newest = Entry(cache, "c", 1000, now.AddHours(-1));
        Assert.NotNull(cache.Find("b")); // a hit makes b the most recently used
        var removed = cache.Evict(2000);
        Assert.Equal([oldest], removed);
        removed = cache.Evict(1000);
        Assert.Equal([newest], removed);
        Assert.True(Directory.Exists(used));
        Assert.Empty(cache.Evict(1000));
    }

    [Fact]
    public void EvictionRemovesHalfWrittenEntriesOfKilledBuilds()
    {
        using var dir = new TempDirectory();
        var cache = new LocalStageCache(dir.Path);
        var stale = cache.Begin("k");
        var fresh = cache.Begin("k");
        Directory.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddDays(-2));
        cache.Evict(long.MaxValue);
        Assert.False(Directory.Exists(stale));
        Assert.True(Directory.Exists(fresh));
    }

    [Theory]
    [InlineData("20G", 20L << 30)]
    [InlineData("512m", 512L << 20)]
    [InlineData("4096", 4096L)]
    [InlineData("0", 0L)]
    [InlineData("", null)]
    [InlineData("20 GB", null)]
    [InlineData("-1", null)]
    public void SizesAreBytesOrPowersOf1024(string text, long? bytes) => Assert.Equal(bytes, LocalStageCache.ParseSize(text));
}

public sealed class LayerArchiveTests
{
    /// <summary>Owners, modes, a device node, a whiteout, an opaque directory, a capability and an ACL survive the archive.</summary>
    [RootFact]
    public void ALayerRoundTripsExactly()
    {
        using var dir = new TempDirectory();
        var layer = Path.Combine(dir.Path, "layer");
        var restored = Path.Combine(dir.Path, "restored");
        Directory.CreateDirectory(layer);
        Directory.CreateDirectory(restored);
        Sh($"""
            cd '{layer}'
            mkdir -p etc/opaque usr/bin && echo x > etc/opaque/f && chown 101:102 etc/opaque/f && chmod 4750 etc/opaque/f
            setfattr -n trusted.overlay.opaque -v y etc/opaque
            mknod etc/gone c 0 0 && mknod dev-null c 1 3 && mkfifo fifo && ln -s ../etc usr/link && ln etc/opaque/f hard
            cp /bin/true usr/bin/ping && setcap cap_net_raw+ep usr/bin/ping
            setfacl -m u:1234:r etc/opaque/f
            """);
        var archive = Path.Combine(dir.Path, LayerArchive.FileName);
        var runner = new ProcessRunner(null, CancellationToken.None);
        Assert.Equal(0, runner.Run(LayerArchive.Create(layer, archive, Path.Combine(dir.Path, "log"))).ExitCode);
        Assert.Equal(0, runner.Run(LayerArchive.Extract(archive, restored, Path.Combine(dir.Path, "log"))).ExitCode);
        Assert.Equal(Listing(layer), Listing(restored));
        Assert.Contains("trusted.overlay.opaque", Listing(restored));
        Assert.Contains("0,0", Listing(restored));
    }

    private static string Listing(string root) =>
        Sh($"cd '{root}' && find . -printf '%p %U:%G %m %y %l\\n' | sort && find . -type c -exec stat -c '%n %t,%T' {{}} + | sort && getfattr -R -h -d -m - . 2>/dev/null | grep -v '^$' && getfacl -R -p . 2>/dev/null | grep -v '^$'");

    private static string Sh(string script)
    {
        var result = new ProcessRunner(null, CancellationToken.None).Capture(new ToolCommand("sh", ["-ec", script]));
        Assert.True(result.ExitCode == 0, result.Error);
        return result.Output;
    }
}

public sealed class RegistryCredentialsTests
{
    private static string Basic(string text) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text));

    [Fact]
    public void TheEnvironmentWinsOverDockersConfig()
    {
        using var home = new TempDirectory();
        home.File(".docker/config.json", $$"""{ "auths": { "registry.test:5000": { "auth": "{{Basic("docker:secret")}}" } } }""");
        var env = new Dictionary<string, string> { ["LIVEIMAGE_REGISTRY_USERNAME"] = "ci", ["LIVEIMAGE_REGISTRY_PASSWORD"] = "token" };
        Assert.Equal(new RegistryCredentials(Basic("ci:token"), "LIVEIMAGE_REGISTRY_USERNAME/PASSWORD"), RegistryCredentials.Find("registry.test:5000", env.GetValueOrDefault, home.Path));
        Assert.Equal(new RegistryCredentials(Basic("docker:secret"), Path.Combine(home.Path, ".docker/config.json")), RegistryCredentials.Find("registry.test:5000", _ => null, home.Path));
        // an empty user name is no credentials: Docker's config.json is read
        env["LIVEIMAGE_REGISTRY_USERNAME"] = "";
        Assert.Equal(Basic("docker:secret"), RegistryCredentials.Find("registry.test:5000", env.GetValueOrDefault, home.Path)?.Basic);
    }

    [Fact]
    public void DockerConfigWinsOverHome()
    {
        using var home = new TempDirectory();
        home.File(".docker/config.json", $$"""{ "auths": { "registry.test": { "auth": "{{Basic("home:x")}}" } } }""");
        using var config = new TempDirectory();
        config.File("config.json", $$"""{ "auths": { "registry.test": { "auth": "{{Basic("docker-config:y")}}" } } }""");
        var env = new Dictionary<string, string> { ["DOCKER_CONFIG"] = config.Path };
        Assert.Equal(Basic("docker-config:y"), RegistryCredentials.Find("registry.test", env.GetValueOrDefault, home.Path)?.Basic);
        Assert.Equal(Basic("home:x"), RegistryCredentials.Find("registry.test", _ => null, home.Path)?.Basic);
        Assert.Null(RegistryCredentials.Find("registry.test", _ => null, null));
    }

    [Fact]
    public void DockersConfigIsMatchedByHostWithOrWithoutSchemeAndPort()
    {
        using var config = new TempDirectory();
        config.File("config.json", $$"""
            { "auths": {
                "https://other.test/v1/": { "auth": "{{Basic("a:b")}}" },
                "registry.test:5000": { "auth": "{{Basic("c:d")}}" },
                "registry.test": { "auth": "{{Basic("e:f")}}" },
                "Upper.Test/some/path": { "auth": "{{Basic("g:h")}}" } } }
            """);
        var env = new Dictionary<string, string> { ["DOCKER_CONFIG"] = config.Path };
        Assert.Equal(Basic("a:b"), RegistryCredentials.Find("other.test", env.GetValueOrDefault, null)?.Basic);
        Assert.Equal(Basic("c:d"), RegistryCredentials.Find("registry.test:5000", env.GetValueOrDefault, null)?.Basic);
        Assert.Equal(Basic("e:f"), RegistryCredentials.Find("registry.test", env.GetValueOrDefault, null)?.Basic);
        Assert.Equal(Basic("g:h"), RegistryCredentials.Find("upper.test", env.GetValueOrDefault, null)?.Basic);
        Assert.Null(RegistryCredentials.Find("registry.test:5001", env.GetValueOrDefault, null));
        Assert.Null(RegistryCredentials.Find("unknown.test", env.GetValueOrDefault, null));
    }

    [Fact]
    public void AnAuthsEntryMayHoldUsernameAndPasswordInsteadOfAuth()
    {
        using var config = new TempDirectory();
        config.File("config.json", $$"""
            { "auths": {
                "plain.test": { "username": "u", "password": "p:w" },
                "broken.test": { "auth": "not base64!" },
                "nocolon.test": { "auth": "{{Basic("justauser")}}" },
                "empty.test": {} },
              "credsStore": "desktop" }
            """);
        var env = new Dictionary<string, string> { ["DOCKER_CONFIG"] = config.Path };
        Assert.Equal(Basic("u:p:w"), RegistryCredentials.Find("plain.test", env.GetValueOrDefault, null)?.Basic);
        Assert.Null(RegistryCredentials.Find("broken.test", env.GetValueOrDefault, null));
        Assert.Null(RegistryCredentials.Find("nocolon.test", env.GetValueOrDefault, null));
        Assert.Null(RegistryCredentials.Find("empty.test", env.GetValueOrDefault, null));
    }

    [Fact]
    public void AConfigJsonThatIsNotJsonIsNoCredentials()
    {
        using var config = new TempDirectory();
        config.File("config.json", "{ \"auths\": ");
        Assert.Null(RegistryCredentials.Find("registry.test", new Dictionary<string, string> { ["DOCKER_CONFIG"] = config.Path }.GetValueOrDefault, null));
        config.File("config.json", "{ \"auths\": [] }");
        Assert.Null(RegistryCredentials.Find("registry.test", new Dictionary<string, string> { ["DOCKER_CONFIG"] = config.Path }.GetValueOrDefault, null));
    }

    [Fact]
    public void ThePasswordKeyIsTheSameEverywhereAndDiffersPerPassword()
    {
        Assert.Equal(PasswordKey.Of("live"), PasswordKey.Of("live"));
        Assert.NotEqual(PasswordKey.Of("live"), PasswordKey.Of("live2"));
        Assert.Equal("none", PasswordKey.Of(""));
    }
}

/// <summary>
/// What the registry client makes of a registry that wants credentials (401 with a challenge, 403): a
/// <see cref="RegistryRefusedException"/> (LIVE1096) that says whether credentials were found and where,
/// never the credentials themselves. The real registry with htpasswd is in the E2E StageCacheTests.
/// </summary>
public sealed class OciRegistryRefusalTests
{
    private static readonly RegistryCredentials Wrong = new(Convert.ToBase64String("user:hunter2"u8.ToArray()), "/home/u/.docker/config.json");

    /// <summary>Answers every request with <paramref name="answer"/>, recording the Authorization headers sent.</summary>
    private sealed class Registry(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        public List<string?> Authorizations { get; } = [];

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Authorizations.Add(request.Headers.Authorization?.ToString());
            return answer(request);
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => Task.FromResult(Send(request, cancellationToken));
    }

    private static HttpResponseMessage Challenge(string scheme, string parameter)
    {
        var response = new HttpResponseMessage(System.Net.HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.Add(new(scheme, parameter));
        return response;
    }

    private static RegistryRefusedException Refusal(Func<HttpRequestMessage, HttpResponseMessage> answer, RegistryCredentials? credentials, out Registry registry)
    {
        registry = new Registry(answer);
        var client = new OciRegistry("http://127.0.0.1:5000/liveimage/stages", new HttpClient(registry), credentials);
        var e = Assert.Throws<RegistryRefusedException>(() => client.Has("abc"));
        Assert.DoesNotContain("hunter2", e.Message);
        Assert.DoesNotContain(Wrong.Basic, e.Message);
        return e;
    }

    [Fact]
    public void ABasicChallengeWithoutCredentialsSaysNoneWereFound()
    {
        var e = Refusal(_ => Challenge("Basic", "realm=\"test\""), null, out var registry);
        Assert.Equal("HTTP 401: it asks for credentials and none were found for 127.0.0.1:5000", e.Message);
        Assert.Equal([null], registry.Authorizations);
    }

    [Fact]
    public void RefusedCredentialsAreNamedByWhereTheyCameFrom()
    {
        var e = Refusal(_ => Challenge("Basic", "realm=\"test\""), Wrong, out var registry);
        Assert.Equal("HTTP 401: it refuses the credentials for 127.0.0.1:5000 from /home/u/.docker/config.json", e.Message);
        Assert.All(registry.Authorizations, a => Assert.Equal("Basic " + Wrong.Basic, a));
    }

    [Fact]
    public void ATokenServiceThatRefusesTheCredentialsAndAForbiddenRequestAreRefusals()
    {
        var token = Refusal(r => r.RequestUri!.AbsolutePath == "/token" ? new(System.Net.HttpStatusCode.Unauthorized)
            : Challenge("Bearer", "realm=\"http://127.0.0.1:5000/token\",service=\"test\",scope=\"repository:liveimage/stages:pull\""), Wrong, out var registry);
        Assert.Equal("HTTP 401: it refuses the credentials for 127.0.0.1:5000 from /home/u/.docker/config.json", token.Message);
        Assert.Equal("Basic " + Wrong.Basic, registry.Authorizations[^1]);

        var forbidden = Refusal(_ => new(System.Net.HttpStatusCode.Forbidden), Wrong, out _);
        Assert.StartsWith("HTTP 403: it refuses the credentials", forbidden.Message);
    }

    [Fact]
    public void ABearerTokenIsFetchedWithTheCredentialsAndUsed()
    {
        var registry = new Registry(r => r.RequestUri!.AbsolutePath == "/token"
            ? new(System.Net.HttpStatusCode.OK) { Content = new StringContent("""{ "token": "t0ken" }""") }
            : r.Headers.Authorization?.ToString() == "Bearer t0ken" ? new(System.Net.HttpStatusCode.NotFound)
            : Challenge("Bearer", "realm=\"http://127.0.0.1:5000/token\",service=\"test\""));
        Assert.False(new OciRegistry("http://127.0.0.1:5000/liveimage/stages", new HttpClient(registry), Wrong).Has("abc"));
        Assert.Equal(["Basic " + Wrong.Basic, "Basic " + Wrong.Basic, "Bearer t0ken"], registry.Authorizations);
    }
}
