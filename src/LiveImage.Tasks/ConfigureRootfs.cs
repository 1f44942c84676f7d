using LiveImage.Tasks.StageCache;
using LiveImage.Tasks.Rootfs;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Hostname, daemon block (policy-rc.d, so no package starts a service in the build), live user
/// and root lock. Values travel in
/// the environment, so the password never appears on a command line or in a log.
/// </summary>
public sealed class ConfigureRootfs : RootfsStageTask
{
    public string HostName { get; set; } = "debian";
    public string LiveUser { get; set; } = "";
    public string LivePassword { get; set; } = "";
    /// <summary>Read while the stage runs, instead of LivePassword, so the password is never a task parameter.</summary>
    public string LivePasswordFile { get; set; } = "";
    public bool LiveUserSudo { get; set; } = true;
    public bool LockRootPassword { get; set; } = true;
    /// <summary>Blank password that must be changed at the first login, for images handed to a user who sets their own.</summary>
    public bool ExpireLivePassword { get; set; }
    /// <summary>
    /// The image is built on a base image, whose users and root lock it has already: only the host
    /// name and the daemon block (which the base's finalize stage removed) are set again.
    /// </summary>
    public bool OnBaseImage { get; set; }
    /// <summary>
    /// The image's SOURCE_DATE_EPOCH: the live user's password is hashed here (SHA-512-crypt) with a salt that
    /// follows from it, so the shadow file is the same in every build; empty: chpasswd's own random salt.
    /// </summary>
    public string SourceDateEpoch { get; set; } = "";

    /// <summary>
    /// The inputs cache's password token is random per obj/ (LivePasswordState): the key takes the
    /// password itself instead, through a slow hash (<see cref="PasswordKey"/>).
    /// </summary>
    private protected override string KeyInputs(string inputsCache) =>
        string.Concat(inputsCache.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("LivePassword=", StringComparison.Ordinal)).Select(l => l + "\n"));

    private protected override IEnumerable<string> KeyExtras(bool withoutLock) =>
        ["password " + PasswordKey.Of(LivePasswordFile.Length > 0 ? Configuration.LivePasswordFile.Read(LivePasswordFile) : LivePassword)];

    protected override void RunStage()
    {
        High(nameof(Strings.StageStarting), StageName, Architecture, OnBaseImage ? $"hostname {HostName}, on the base image's users" : $"hostname {HostName}, user '{LiveUser}'");
        var started = DateTime.UtcNow;
        var env = Distro.PackageEnvironment();
        env["LIVEIMAGE_HOSTNAME"] = HostName;
        env["LIVEIMAGE_USER"] = OnBaseImage ? "" : LiveUser;
        var password = LivePasswordFile.Length > 0 ? Configuration.LivePasswordFile.Read(LivePasswordFile) : LivePassword;
        env["LIVEIMAGE_PASSWORD"] = password;
        env["LIVEIMAGE_PASSWORD_HASH"] = SourceDateEpoch.Length > 0 && password.Length > 0
            ? Configuration.Sha512Crypt.Hash(password, Configuration.Sha512Crypt.SaltFrom($"{SourceDateEpoch}:{LiveUser}:{password}"))
            : "";
        env["LIVEIMAGE_SUDO"] = LiveUserSudo ? "1" : "";
        env["LIVEIMAGE_LOCKROOT"] = LockRootPassword && !OnBaseImage ? "1" : "";
        env["LIVEIMAGE_EXPIRE"] = ExpireLivePassword ? "1" : "";
        RunChecked(Namespace().InChroot(["/bin/sh", "-c", Script], LogFile, env), "configure");
        High(nameof(Strings.StageFinished), StageName, Architecture, (DateTime.UtcNow - started).TotalSeconds);
    }

    internal const string Script = """
        set -eu
        echo "$LIVEIMAGE_HOSTNAME" > /etc/hostname
        printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$LIVEIMAGE_HOSTNAME" > /etc/hosts
        # no daemon may start while the image is built; the finalize stage removes this
        printf '#!/bin/sh\n# LiveImage.Sdk: daemons are blocked while the image is built\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        # a base image's first-boot preset ('disable *') would keep this image's packages from enabling their
        # services (deb-systemd-helper follows presets); the finalize stage writes it again
        rm -f /etc/systemd/system-preset/00-liveimage-first-boot.preset
        if [ -n "$LIVEIMAGE_USER" ]; then
            groups=
            if [ -n "$LIVEIMAGE_SUDO" ]; then
                getent group sudo >/dev/null || groupadd --system sudo
                groups="--groups sudo"
            fi
            useradd --create-home --shell /bin/bash --user-group $groups "$LIVEIMAGE_USER"
            if [ -n "$LIVEIMAGE_EXPIRE" ]; then
                passwd --delete "$LIVEIMAGE_USER"
                chage --lastday 0 "$LIVEIMAGE_USER"
                echo "live user's password is blank and must be set at the first login"
            else
                if [ -n "$LIVEIMAGE_PASSWORD_HASH" ]; then
                    echo "$LIVEIMAGE_USER:$LIVEIMAGE_PASSWORD_HASH" | chpasswd --encrypted
                else
                    echo "$LIVEIMAGE_USER:$LIVEIMAGE_PASSWORD" | chpasswd
                fi
            fi
            echo "live user $LIVEIMAGE_USER created${LIVEIMAGE_SUDO:+ (sudo)}"
        fi
        if [ -n "$LIVEIMAGE_LOCKROOT" ]; then
            usermod --lock root
            echo "root password locked"
        fi
        """;
}
