using System.Diagnostics;
using System.Text;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Processes;

namespace LiveImage.Tasks.BootTesting;

/// <summary>
/// One running qemu. It is started through <c>setpriv --pdeathsig KILL</c> on the calling thread,
/// and that thread must stay alive (it blocks driving the boot) until <see cref="Dispose"/> has
/// killed qemu: the kernel sends the death signal when the starting thread ends, so qemu cannot
/// outlive a killed build. Serial console bytes (qemu's stdout) go raw to the serial log and,
/// decoded, to <see cref="Console"/>; qemu's own messages (stderr) go to the qemu log.
/// </summary>
internal sealed class QemuProcess : IDisposable
{
    private readonly Process _process;
    private readonly Thread _stdoutReader;
    private readonly Thread _stderrReader;
    private readonly StringBuilder _stderr = new();
    private readonly StreamWriter _qemuLog;
    private readonly FileStream _serialLog;
    private readonly object _logGate = new();
    private bool _disposed;

    private QemuProcess(Process process, FileStream serialLog, StreamWriter qemuLog)
    {
        _process = process;
        _serialLog = serialLog;
        _qemuLog = qemuLog;
        _stdoutReader = new Thread(ReadConsole) { IsBackground = true, Name = "qemu serial console" };
        _stderrReader = new Thread(ReadStderr) { IsBackground = true, Name = "qemu stderr" };
    }

    public QemuSerialConsole Console { get; } = new();

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Waits up to <paramref name="time"/> for qemu to end by itself, then for its stderr to be read to the end
    /// (the console can close before the last lines are read, and they say why qemu stopped).
    /// </summary>
    public bool WaitForExit(TimeSpan time)
    {
        if (!_process.WaitForExit(time)) return false;
        _stderrReader.Join(TimeSpan.FromSeconds(5));
        return true;
    }

    /// <summary>Everything qemu wrote to stderr so far.</summary>
    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    /// <summary>
    /// Starts <paramref name="setpriv"/> --pdeathsig KILL -- <paramref name="qemu"/> arguments.
    /// The serial log is truncated; the qemu log gets the command line and qemu's stderr appended.
    /// </summary>
    public static QemuProcess Start(string setpriv, string qemu, IReadOnlyList<string> arguments, string serialLogPath, string qemuLogPath)
    {
        var command = new ToolCommand(setpriv, ProcessRunner.WithParentDeathSignal(qemu, arguments));
        var serialLog = new FileStream(serialLogPath, FileMode.Create, FileAccess.Write, FileShare.Read);
        var qemuLog = new StreamWriter(qemuLogPath, append: true) { AutoFlush = true };
        qemuLog.WriteLine($"$ {command.Display}");

        Process process;
        try
        {
            process = ProcessRunner.StartChild(command);
        }
        catch (LiveImageException)
        {
            serialLog.Dispose();
            qemuLog.Dispose();
            throw;
        }

        var q = new QemuProcess(process, serialLog, qemuLog);
        q._stdoutReader.Start();
        q._stderrReader.Start();
        return q;
    }

    /// <summary>Types text into the serial console; ignored once qemu has gone.</summary>
    public void Send(string text, string? logAs = null)
    {
        lock (_logGate) _qemuLog.WriteLine($"# typed: {logAs ?? text.Replace("\r", "\\r", StringComparison.Ordinal)}");
        try
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            _process.StandardInput.BaseStream.Write(bytes);
            _process.StandardInput.BaseStream.Flush();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // qemu has exited; the caller notices through HasExited.
        }
    }

    /// <summary>Writes a note into the qemu log.</summary>
    public void Note(string text)
    {
        lock (_logGate) _qemuLog.WriteLine("# " + text);
    }

    private void ReadConsole()
    {
        var decoder = new UTF8Encoding(false, false).GetDecoder();
        var bytes = new byte[4096];
        var chars = new char[4097];
        var stream = _process.StandardOutput.BaseStream;
        try
        {
            int n;
            while ((n = stream.Read(bytes, 0, bytes.Length)) > 0)
            {
                lock (_logGate)
                {
                    _serialLog.Write(bytes, 0, n);
                    _serialLog.Flush();
                }
                var c = decoder.GetChars(bytes, 0, n, chars, 0);
                Console.Append(new string(chars, 0, c));
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // the pipe closed under us while killing qemu
        }
        finally
        {
            Console.Close();
        }
    }

    private void ReadStderr()
    {
        try
        {
            string? line;
            while ((line = _process.StandardError.ReadLine()) is not null)
            {
                lock (_stderr) _stderr.Append(line).Append('\n');
                lock (_logGate) _qemuLog.WriteLine(line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // the pipe closed under us while killing qemu
        }
    }

    /// <summary>Kills qemu (and anything it started) and waits until it and the readers are gone.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // already gone
        }
        _process.WaitForExit();
        _stdoutReader.Join(TimeSpan.FromSeconds(10));
        _stderrReader.Join(TimeSpan.FromSeconds(10));
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Kill();
        lock (_logGate)
        {
            _qemuLog.WriteLine($"# qemu ended with exit code {_process.ExitCode}");
            _qemuLog.Dispose();
            _serialLog.Dispose();
        }
        _process.Dispose();
    }
}
