using System.Text;

namespace LiveImage.Tasks.BootTesting;

/// <summary>
/// The text the guest has written to its serial console so far, filled by a reader thread and read
/// by the thread that drives the boot. Prompts such as "login: " end without a newline, so the text
/// is kept as it comes, character by character, not line by line.
/// </summary>
internal sealed class QemuSerialConsole
{
    private readonly StringBuilder _text = new();
    private readonly object _gate = new();
    private bool _closed;
    private long _lastDataTick = Environment.TickCount64;

    /// <summary>Characters received so far; positions into the text are stable.</summary>
    public int Length
    {
        get { lock (_gate) return _text.Length; }
    }

    /// <summary>True once the guest's side has closed (qemu ended).</summary>
    public bool IsClosed
    {
        get { lock (_gate) return _closed; }
    }

    /// <summary>How long nothing has arrived.</summary>
    public TimeSpan Idle
    {
        get { lock (_gate) return TimeSpan.FromMilliseconds(Environment.TickCount64 - _lastDataTick); }
    }

    public void Append(string text)
    {
        if (text.Length == 0) return;
        lock (_gate)
        {
            _text.Append(text);
            _lastDataTick = Environment.TickCount64;
            Monitor.PulseAll(_gate);
        }
    }

    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The text from a position to the end.</summary>
    public string Read(int from = 0)
    {
        lock (_gate)
        {
            from = Math.Clamp(from, 0, _text.Length);
            return _text.ToString(from, _text.Length - from);
        }
    }

    /// <summary>Waits until there is more text than <paramref name="knownLength"/>, the console closes, or the time is up.</summary>
    public void WaitForMore(int knownLength, TimeSpan max)
    {
        lock (_gate)
        {
            if (_text.Length > knownLength || _closed) return;
            Monitor.Wait(_gate, max);
        }
    }
}
