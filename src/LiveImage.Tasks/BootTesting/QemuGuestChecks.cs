using LiveImage.Tasks.Diagnostics;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace LiveImage.Tasks.BootTesting;

/// <summary>
/// The checks run in the logged-in guest: the built-in ones (sudo group, locked root, system state,
/// apt sources, no policy-rc.d) and then the project's.
/// </summary>
internal sealed class QemuGuestChecks(QemuGuestConsole guest, QemuBootSettings settings, QemuBootMode mode, string serialLog, TaskLoggingHelper log)
{
    private readonly QemuBootSettings _s = settings;
    private readonly System.Diagnostics.Stopwatch _clock = new();

    /// <summary>The checks that passed, in order, with how long each took (one JUnit test case each).</summary>
    public List<(string Name, double Seconds)> Passed { get; } = [];

    /// <summary>The check running (or that failed), or null.</summary>
    public string? Current { get; private set; }

    public double CurrentSeconds => _clock.Elapsed.TotalSeconds;

    private void Begin(string check)
    {
        Current = check;
        _clock.Restart();
    }

    private void Pass()
    {
        Passed.Add((Current!, _clock.Elapsed.TotalSeconds));
        Current = null;
    }

    /// <summary>Runs the built-in checks, then the project's; returns the system state and failed units.</summary>
    public (string State, IReadOnlyList<string> FailedUnits) RunChecks(int position)
    {
        var id = 0;
        LiveImageException Failed(string check, string reason) =>
            new(nameof(Strings.BootCheckFailed), check, _s.ImageName, mode.Name, reason, serialLog);

        // Built in: the live user must be an administrator (root needs no sudo).
        var isRoot = _s.LiveUser == "root";
        var expected = isRoot ? "uid=0(root)" : "(sudo)";
        Begin("id");
        var (idOutput, _) = guest.RunCommand(ref position, "id", ++id, _s.StepTimeout);
        if ((_s.LiveUserSudo || isRoot) && !idOutput.Contains(expected, StringComparison.Ordinal))
        {
            throw Failed("id", $"the user '{_s.LiveUser}' is not in the sudo group: 'id' printed '{idOutput}', which does not contain '{expected}'");
        }
        Pass();

        // The entry of the boot menu that was chosen really booted: its kernel arguments are the kernel's.
        if (mode.MenuEntry is { KernelArguments.Length: > 0 } entry)
        {
            const string cmdlineCheck = "kernel command line";
            Begin(cmdlineCheck);
            var (cmdline, _) = guest.RunCommand(ref position, "cat /proc/cmdline", ++id, _s.StepTimeout, name: cmdlineCheck);
            if (!cmdline.Contains(entry.KernelArguments, StringComparison.Ordinal))
                throw Failed(cmdlineCheck, $"the boot menu entry '{entry.Label}' was chosen, and /proc/cmdline does not hold its KernelArguments '{entry.KernelArguments}': '{cmdline.Trim()}'");
            Pass();
        }

        // Built in: root cannot log in with a password (first: it answers sudo's prompt, which sudo then remembers).
        var viaSudo = _s.LiveUserSudo && !isRoot;
        if (_s.LockRootPassword && !isRoot)
        {
            const string rootCheck = "root password locked";
            if (!viaSudo)
            {
                log.LogMessage(MessageImportance.Normal, $"{mode.Name}: '{rootCheck}' not checked: the live user has no sudo (LiveUserSudo=false) to read /etc/shadow");
            }
            else
            {
                Begin(rootCheck);
                var (shadow, code) = guest.RunCommand(ref position, QemuBuiltInChecks.RootShadowCommand, ++id, _s.StepTimeout,
                    answerSudo: true, name: rootCheck);
                var locked = QemuBuiltInChecks.RootPasswordIsLocked(shadow);
                if (locked is null)
                    throw Failed(rootCheck, $"root's entry in /etc/shadow could not be read with sudo (exit code {code}; is LivePassword right?). Output:\n{QemuGuestConsole.ShowOutput(shadow)}");
                if (locked == false)
                    throw Failed(rootCheck, "root has a usable password although LockRootPassword is true (its /etc/shadow hash does not start with '!' or '*')");
                Pass();
            }
        }

        // Built in: the boot finished, with no unit failed except those the project allows.
        const string stateCheck = "systemctl is-system-running";
        var wait = QemuBuiltInChecks.SystemStateWaitSeconds(_s.BootTimeout);
        Begin(stateCheck);
        var (stateOutput, _) = guest.RunCommand(ref position, QemuBuiltInChecks.SystemStateCommand(viaSudo, wait), ++id,
            QemuBuiltInChecks.SystemStateTimeout(wait), answerSudo: viaSudo, name: stateCheck);
        var (state, failedUnits) = QemuBuiltInChecks.ParseSystemState(stateOutput);
        var units = failedUnits.Count == 0 ? "none" : string.Join(", ", failedUnits);
        if (!isRoot && !viaSudo && QemuBuiltInChecks.NoBus(stateOutput))
        {
            log.LogMessage(MessageImportance.Normal, $"{mode.Name}: '{stateCheck}' not checked: without sudo (LiveUserSudo=false) the live user needs D-Bus to ask systemd, and the image has none");
            Current = null;
        }
        else if (!QemuBuiltInChecks.SystemStateIsAcceptable(state))
        {
            throw Failed(stateCheck, $"the system is '{(state.Length == 0 ? $"(no answer: still starting after {wait} s?)" : state)}', not running or degraded; failed units: {units}. Output:\n{QemuGuestConsole.ShowOutput(stateOutput)}");
        }
        else if (state == "degraded" && QemuBuiltInChecks.NotAllowed(failedUnits, _s.AllowedFailedUnits) is { Count: > 0 } unexpected)
        {
            throw Failed(stateCheck, $"the system is degraded: unit(s) {string.Join(", ", unexpected)} failed. Fix them (the serial log and 'journalctl -u <unit>' in the image say why), "
                + "or list the units that may fail in BootTestAllowedFailedUnits");
        }
        else if (state == "degraded") log.LogMessageFromResources(MessageImportance.High, nameof(Strings.BootDegraded), _s.ImageName, _s.Machine.Architecture, mode.Name, units);
        else log.LogMessage(MessageImportance.Normal, $"{mode.Name}: system {state}");
        if (Current is not null) Pass();

        // Built in: apt in the image uses the image mirror only, nothing of the build.
        const string aptCheck = "apt sources";
        Begin(aptCheck);
        var (sourcesOutput, _) = guest.RunCommand(ref position, QemuBuiltInChecks.AptSourcesCommand, ++id, _s.StepTimeout, name: aptCheck);
        var problems = QemuBuiltInChecks.AptSourceProblems(QemuBuiltInChecks.ParseAptSources(sourcesOutput), _s.ImageMirror, _s.ImageAptSources, _s.BuildMirror);
        if (problems.Count > 0) throw Failed(aptCheck, "the image's apt sources are not what it ships with: " + string.Join("; ", problems));
        Pass();

        // Built in: daemons may start (the build's policy-rc.d is gone).
        const string policyCheck = "no /usr/sbin/policy-rc.d";
        Begin(policyCheck);
        var (_, policyCode) = guest.RunCommand(ref position, QemuBuiltInChecks.PolicyRcDCommand, ++id, _s.StepTimeout, name: policyCheck);
        if (policyCode != 0)
            throw Failed(policyCheck, "/usr/sbin/policy-rc.d is still in the image, so package scripts cannot start daemons; the finalize stage removes it: rebuild, and do not add it in a hook");
        Pass();

        foreach (var check in _s.Checks)
        {
            var command = check.Command;
            Begin(check.Command);
            if (check.AsRoot && !isRoot)
            {
                if (!viaSudo) throw Failed(check.Command, "it has AsRoot=\"true\", and the live user has no sudo (LiveUserSudo=false): drop AsRoot or set LiveUserSudo=true");
                command = QemuBuiltInChecks.SudoPrefix + "sh -c " + QemuShellCommand.Quote(check.Command);
            }
            var (output, exitCode) = guest.RunCommand(ref position, command, ++id, check.Timeout ?? _s.StepTimeout,
                answerSudo: check.AsRoot && viaSudo, name: check.Command);
            log.LogMessage(MessageImportance.Low, $"{mode.Name}: check '{check.Command}' exited with {exitCode}:\n{output}");
            if (!string.IsNullOrEmpty(check.Expect))
            {
                if (!output.Contains(check.Expect, StringComparison.Ordinal))
                {
                    throw Failed(check.Command, $"its output does not contain '{check.Expect}' (exit code {exitCode}). Output:\n{QemuGuestConsole.ShowOutput(output)}");
                }
            }
            else if (exitCode != 0)
            {
                throw Failed(check.Command, $"it exited with code {exitCode}. Output:\n{QemuGuestConsole.ShowOutput(output)}");
            }
            Pass();
        }
        return (state, failedUnits);
    }
}
