using System.Collections.Concurrent;
using System.Diagnostics;
using LiveImage.Tasks.Configuration;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Processes;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace LiveImage.Tasks.Emulation;

/// <summary>
/// Holds a foreign architecture's binfmt_misc handler while one stage runs programs of the image.
///
/// A small guard process, in a session of its own (Ctrl+C in the terminal does not reach it), takes a
/// shared lock that every LiveImage build running emulated programs holds meanwhile. With
/// RegisterBinfmt=true the guard first makes the handler ready (mounts binfmt_misc, enables the
/// handler) and records each change it made under /run/liveimage/binfmt; whichever build leaves last
/// undoes every recorded change, so parallel builds never pull the handler from under each other.
/// Without RegisterBinfmt the guard changes nothing and only holds the lock.
///
/// The guard undoes the changes when its standard input closes: when the stage disposes the session
/// (success, failure, cancellation), and also when the build process dies however it dies (SIGKILL
/// included), because the kernel closes the pipe then. Limits: a SIGKILL of the guard itself, or a
/// power loss, leaves the handler enabled until the next LiveImage build with emulation ends (it
/// undoes what is recorded) or the machine restarts (binfmt_misc registrations and /run do not
/// survive a restart, unless binfmt-support or systemd-binfmt registers handlers at boot anyway).
/// </summary>
internal sealed class BinfmtSession : IDisposable
{
    internal const string StateDirectory = "/run/liveimage/binfmt";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromMinutes(1);

    private readonly Process _guard;
    private readonly BlockingCollection<string> _lines;
    private readonly TaskLoggingHelper _log;
    private readonly string _handler;
    private bool _disposed;

    private BinfmtSession(Process guard, BlockingCollection<string> lines, TaskLoggingHelper log, string handler)
    {
        _guard = guard;
        _lines = lines;
        _log = log;
        _handler = handler;
    }

    /// <summary>
    /// Starts the guard, registering the handler first when <paramref name="register"/> allows it, then
    /// checks the handler. Throws LIVE2013 when it is not ready (with the command that fixes it) and
    /// LIVE2015 when registering failed; the guard has undone its changes by then.
    /// </summary>
    public static BinfmtSession Open(DebianArchitecture arch, bool register, TaskLoggingHelper log, CancellationToken cancellation)
    {
        var handler = arch.BinfmtHandler;
        var session = Start(handler, register, log);
        try
        {
            var failure = session.WaitUntilReady(cancellation);
            if (failure is not null) throw new LiveImageException(nameof(Strings.BinfmtRegisterFailed), handler, arch.Name, failure);
            if (Binfmt.Check(handler) is { } problem)
                throw new LiveImageException(nameof(Strings.BinfmtNotReady), arch.Name, DebianArchitecture.Host, problem.Reason, problem.Command);
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static BinfmtSession Start(string handler, bool register, TaskLoggingHelper log)
    {
        var command = new ToolCommand("setsid", ["/bin/sh", "-c", Script, "liveimage-binfmt", register ? "register" : "hold", handler, StateDirectory])
        {
            Environment = new Dictionary<string, string>
            {
                ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                ["LC_ALL"] = "C.UTF-8",
            },
        };
        var lines = new BlockingCollection<string>();
        var open = 2;
        void OnData(object _, DataReceivedEventArgs e)
        {
            if (e.Data is null) { if (Interlocked.Decrement(ref open) == 0) lines.CompleteAdding(); }
            else lines.Add(e.Data);
        }
        var process = ProcessRunner.StartChild(command);
        process.OutputDataReceived += OnData;
        process.ErrorDataReceived += OnData;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        log.LogMessage(MessageImportance.Low, $"binfmt guard for {handler} started (pid {process.Id}, {(register ? "RegisterBinfmt=true" : "no changes")})");
        return new BinfmtSession(process, lines, log, handler);
    }

    /// <summary>Null once the guard says READY, else why it failed.</summary>
    private string? WaitUntilReady(CancellationToken cancellation)
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        using var both = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellation);
        var said = new List<string>();
        try
        {
            foreach (var line in _lines.GetConsumingEnumerable(both.Token))
            {
                if (line == "READY")
                {
                    Summarize(said, "changed: ", MessageImportance.High, "; undone when no build needs it any more");
                    return null;
                }
                if (line.StartsWith("FAILED ", StringComparison.Ordinal)) return line["FAILED ".Length..] + Tail(said);
                Report(line);
                said.Add(line);
            }
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return $"the binfmt guard did not get ready within {StartTimeout.TotalSeconds:0} s (another build holding {StateDirectory}/lock?)" + Tail(said);
        }
        return "the binfmt guard ended early" + Tail(said);
    }

    private static string Tail(List<string> lines) => lines.Count == 0 ? "" : "\n" + string.Join('\n', lines.TakeLast(10));

    /// <summary>One line for what the guard changed (or undid), e.g. "binfmt [qemu-aarch64]: mounted binfmt_misc at ..., registered qemu-aarch64".</summary>
    private void Summarize(List<string> lines, string prefix, MessageImportance importance, string suffix = "")
    {
        var what = lines.Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).Select(l => l[prefix.Length..]).ToList();
        if (what.Count > 0) _log.LogMessage(importance, $"binfmt [{_handler}]: {string.Join(", ", what)}{suffix}");
    }

    private void Report(string line)
    {
        if (line.StartsWith("changed: ", StringComparison.Ordinal) || line.StartsWith("restored: ", StringComparison.Ordinal))
            _log.LogMessage(MessageImportance.Low, $"binfmt [{_handler}]: {line}");
        else if (line.StartsWith("WARNING ", StringComparison.Ordinal))
            _log.LogWarningWithCodeFromResources(nameof(Strings.BinfmtRestoreFailed), _handler, line["WARNING ".Length..], StateDirectory);
        else
            _log.LogMessage(MessageImportance.Low, $"binfmt [{_handler}]: {line}");
    }

    /// <summary>Lets the guard go: it undoes the recorded changes if no other build still uses emulation.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try { _guard.StandardInput.Close(); }
        catch (IOException) { /* the guard is gone already */ }
        using var timeout = new CancellationTokenSource(StopTimeout);
        try
        {
            var said = new List<string>();
            foreach (var line in _lines.GetConsumingEnumerable(timeout.Token))
            {
                if (line == "READY" || line == "DONE" || line.StartsWith("FAILED ", StringComparison.Ordinal)) continue;
                Report(line);
                said.Add(line);
            }
            Summarize(said, "restored: ", MessageImportance.Normal);
            _guard.WaitForExit();
        }
        catch (OperationCanceledException)
        {
            _log.LogWarningWithCodeFromResources(nameof(Strings.BinfmtRestoreFailed), _handler, $"the guard (pid {_guard.Id}) did not finish within {StopTimeout.TotalSeconds:0} s; it keeps running and restores when it can", StateDirectory);
        }
        _guard.Dispose();
        _lines.Dispose();
    }

    /// <summary>
    /// The guard: $1 register|hold, $2 the handler, $3 the state directory. Prints "changed: ...",
    /// then READY (or "FAILED ..."), waits for its standard input to close, then prints "restored: ..."
    /// or "WARNING ..." lines and DONE.
    /// </summary>
    internal const string Script = """
        set -u
        mode=$1 handler=$2 state=$3
        mnt=/proc/sys/fs/binfmt_misc
        mkdir -p "$state" || { echo "FAILED cannot create $state"; exit 1; }
        exec 8>"$state/lock" 9>"$state/users"
        flock 8
        flock -s 9
        mounted() { grep -qs "^[^ ]* $mnt binfmt_misc " /proc/mounts; }
        restore() {
            flock 8
            flock -u 9
            if flock -n -x 9; then
                for f in "$state"/reenabled-*; do
                    [ -e "$f" ] || continue
                    h=${f##*/reenabled-}
                    if [ ! -e "$mnt/$h" ] || echo 0 > "$mnt/$h"; then echo "restored: $h disabled again"; rm -f "$f"; else echo "WARNING cannot disable $h again: echo 0 > $mnt/$h"; fi
                done
                for f in "$state"/registered-*; do
                    [ -e "$f" ] || continue
                    h=${f##*/registered-}
                    if [ ! -e "$mnt/$h" ] || update-binfmts --disable "$h"; then echo "restored: $h unregistered"; rm -f "$f"; else echo "WARNING cannot unregister $h: update-binfmts --disable $h"; fi
                done
                if [ -e "$state/status" ]; then
                    if echo 0 > "$mnt/status"; then echo "restored: binfmt_misc switched off again"; rm -f "$state/status"; else echo "WARNING cannot switch binfmt_misc off again: echo 0 > $mnt/status"; fi
                fi
                if [ -e "$state/mounted" ]; then
                    if ! mounted || umount "$mnt"; then echo "restored: binfmt_misc unmounted"; rm -f "$state/mounted"; else echo "WARNING cannot unmount binfmt_misc: umount $mnt"; fi
                fi
            fi
            flock -u 8
        }
        fail() { echo "FAILED $*"; restore; echo DONE; exit 1; }
        if [ "$mode" = register ]; then
            if ! mounted; then
                out=$(mount -t binfmt_misc binfmt_misc "$mnt" 2>&1) || fail "mount -t binfmt_misc binfmt_misc $mnt: $out"
                : > "$state/mounted"; echo "changed: mounted binfmt_misc at $mnt"
            fi
            if [ "$(cat "$mnt/status")" = disabled ]; then
                echo 1 > "$mnt/status" || fail "echo 1 > $mnt/status"
                : > "$state/status"; echo "changed: switched binfmt_misc on"
            fi
            if [ ! -e "$mnt/$handler" ]; then
                out=$(update-binfmts --enable "$handler" 2>&1) || fail "update-binfmts --enable $handler: $out"
                [ -e "$mnt/$handler" ] || fail "update-binfmts --enable $handler did not register it: $out"
                : > "$state/registered-$handler"; echo "changed: registered $handler"
            elif [ "$(head -n 1 "$mnt/$handler")" = disabled ]; then
                echo 1 > "$mnt/$handler" || fail "echo 1 > $mnt/$handler"
                : > "$state/reenabled-$handler"; echo "changed: enabled $handler"
            fi
        fi
        flock -u 8
        echo READY
        trap '' INT HUP
        trap 'restore; echo DONE; exit 0' TERM
        while read -r _; do :; done
        restore
        echo DONE
        """;
}
