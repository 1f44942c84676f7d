using System.Text.RegularExpressions;
using LiveImage.Tasks.Diagnostics;

namespace LiveImage.Tasks.BootTesting;

/// <summary>Logs in at the guest's login prompt: user name, password, then a probe that a shell answers; retries what typing may have garbled.</summary>
internal sealed class QemuLogin(QemuGuestConsole guest, QemuBootSettings settings, QemuBootMode mode, string serialLog)
{
    private readonly QemuBootSettings _s = settings;

    private enum LoginPhase { UserTyped, PasswordTyped, ProbeTyped, AwaitPrompt }

    /// <summary>Logs in at the prompt and waits until a shell answers. Returns the console position after that.</summary>
    public int LogIn(int position)
    {
        var qemu = guest.Qemu;
        LiveImageException Fail(string reason) =>
            new(nameof(Strings.LoginFailed), _s.ImageName, mode.Name, _s.LiveUser, reason, serialLog);

        Regex login = QemuConsoleText.LoginPrompt(), password = QemuConsoleText.PasswordPrompt(), incorrect = QemuConsoleText.LoginIncorrect(),
              shell = QemuConsoleText.ShellPromptAtEnd(), ready = QemuConsoleText.ReadyMarker();
        var rejected = 0;
        var userTyped = 0;

        void TypeUser()
        {
            if (++userTyped > 4) throw Fail("the login prompt came back again and again after typing the user name");
            qemu.Send(_s.LiveUser + "\r");
        }

        TypeUser();
        var phase = LoginPhase.UserTyped;
        while (true)
        {
            switch (phase)
            {
                case LoginPhase.UserTyped:
                {
                    var m = guest.WaitAny(position, [password, login, incorrect], "a 'Password:' prompt after typing the user name", Fail,
                        onQuiet: () => qemu.Send("\r"));
                    position = m.End;
                    if (m.Which == 0)
                    {
                        qemu.Send(_s.LivePassword + "\r", logAs: "(the password)");
                        phase = LoginPhase.PasswordTyped;
                    }
                    else if (m.Which == 1) TypeUser();
                    else phase = Rejected(ref rejected, Fail);
                    break;
                }
                case LoginPhase.PasswordTyped:
                {
                    var m = guest.WaitAny(position, [incorrect, shell, ready], "a shell prompt after typing the password", Fail,
                        onQuiet: () => qemu.Send(QemuConsoleText.ReadyProbe + "\r"));
                    if (m.Which == 0) { position = m.End; phase = Rejected(ref rejected, Fail); }
                    else if (m.Which == 2) return m.End;
                    else
                    {
                        // Leave position before the prompt's end so nothing after it is skipped.
                        position = m.Start;
                        qemu.Send(QemuConsoleText.ReadyProbe + "\r");
                        phase = LoginPhase.ProbeTyped;
                    }
                    break;
                }
                case LoginPhase.ProbeTyped:
                {
                    var m = guest.WaitAny(position, [ready, incorrect], "the shell to answer after logging in", Fail,
                        onQuiet: () => qemu.Send(QemuConsoleText.ReadyProbe + "\r"));
                    position = m.End;
                    if (m.Which == 0) return m.End;
                    phase = Rejected(ref rejected, Fail);
                    break;
                }
                case LoginPhase.AwaitPrompt:
                {
                    var m = guest.WaitAny(position, [login], "the login prompt again after 'Login incorrect'", Fail,
                        onQuiet: () => qemu.Send("\r"));
                    position = m.End;
                    TypeUser();
                    phase = LoginPhase.UserTyped;
                    break;
                }
            }
        }
    }

    /// <summary>After "Login incorrect": try once more (the typing may have been garbled), then give up.</summary>
    private static LoginPhase Rejected(ref int rejected, Func<string, LiveImageException> fail)
    {
        if (++rejected > 1) throw fail("the guest answered 'Login incorrect' twice: the user name or password is wrong (LiveUser/LivePassword), or the user does not exist in the image");
        return LoginPhase.AwaitPrompt;
    }
}
