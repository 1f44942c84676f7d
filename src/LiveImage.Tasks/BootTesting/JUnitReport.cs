using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace LiveImage.Tasks.BootTesting;

internal enum BootOutcome
{
    Passed,
    Failed,
    Skipped,
}

/// <summary>One boot mode's result, or one check's in a boot, as the JUnit file reports it.</summary>
internal sealed record BootCaseResult(
    string Mode,
    BootOutcome Outcome,
    double Seconds,
    string? Code = null,
    string? Message = null,
    string? SerialLog = null,
    string? Screenshot = null,
    string? Accelerator = null,
    double? SecondsToLogin = null,
    string? Check = null)
{
    /// <summary>The test case's name: the mode (its boot to the login prompt), or "mode: check" for one of its checks.</summary>
    public string Name => Check is null ? Mode : $"{Mode}: {Check}";
}

/// <summary>
/// Writes the boot test's results in the JUnit XML format CI systems read (Jenkins, GitLab, Azure
/// Pipelines, GitHub test reporters): one testsuite per image and architecture, one testcase per
/// mode (its boot and login) and one per check it ran, a failure carrying the coded error, and the serial log and screenshot as attachments
/// (<c>[[ATTACHMENT|path]]</c> in system-out, which Jenkins and GitLab show).
/// </summary>
internal static class JUnitReport
{
    public static XDocument Build(string imageName, string architecture, IReadOnlyList<BootCaseResult> cases, DateTime startedUtc)
    {
        var suiteName = $"{imageName} ({architecture})";
        var className = $"{imageName}.{architecture}";
        var failures = cases.Count(c => c.Outcome == BootOutcome.Failed);
        var skipped = cases.Count(c => c.Outcome == BootOutcome.Skipped);
        var time = Seconds(cases.Sum(c => c.Seconds));

        var suite = new XElement("testsuite",
            new XAttribute("name", suiteName),
            new XAttribute("tests", cases.Count),
            new XAttribute("failures", failures),
            new XAttribute("errors", 0),
            new XAttribute("skipped", skipped),
            new XAttribute("time", time),
            new XAttribute("timestamp", startedUtc.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture)));
        foreach (var c in cases)
        {
            var testcase = new XElement("testcase",
                new XAttribute("classname", className),
                new XAttribute("name", c.Name),
                new XAttribute("time", Seconds(c.Seconds)));
            switch (c.Outcome)
            {
                case BootOutcome.Failed:
                    testcase.Add(new XElement("failure",
                        new XAttribute("type", c.Code ?? "failure"),
                        new XAttribute("message", Clean(FirstLine(c.Message ?? "failed"))),
                        Clean(c.Message ?? "")));
                    break;
                case BootOutcome.Skipped:
                    testcase.Add(new XElement("skipped", new XAttribute("message", Clean(c.Message ?? "not booted"))));
                    break;
            }
            var output = new StringBuilder();
            if (c.SecondsToLogin is { } login)
                output.Append(CultureInfo.InvariantCulture, $"login prompt after {login:0.0} s").Append(c.Accelerator is null ? "" : $" (accelerator {c.Accelerator})").Append('\n');
            if (c.SerialLog is not null) output.Append("serial console: ").Append(c.SerialLog).Append('\n');
            if (c.Screenshot is not null) output.Append("screenshot: ").Append(c.Screenshot).Append('\n');
            foreach (var file in new[] { c.Screenshot, c.SerialLog })
                if (file is not null) output.Append("[[ATTACHMENT|").Append(file).Append("]]\n");
            if (output.Length > 0) testcase.Add(new XElement("system-out", Clean(output.ToString())));
            suite.Add(testcase);
        }

        var root = new XElement("testsuites",
            new XAttribute("name", "LiveImage boot test"),
            new XAttribute("tests", cases.Count),
            new XAttribute("failures", failures),
            new XAttribute("errors", 0),
            new XAttribute("skipped", skipped),
            new XAttribute("time", time),
            suite);
        return new XDocument(new XDeclaration("1.0", "utf-8", null), root);
    }

    /// <summary>Writes the report (through a temporary file, so a reader never sees half of it).</summary>
    public static void Write(string path, XDocument report)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var partial = path + ".tmp";
        using (var writer = XmlWriter.Create(partial, new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false) }))
            report.Save(writer);
        File.Move(partial, path, overwrite: true);
    }

    /// <summary>The code at the start of a coded message ("LIVE5003: ..."), or null.</summary>
    public static string? CodeOf(string message)
    {
        var colon = message.IndexOf(':');
        return colon == 8 && message.StartsWith("LIVE", StringComparison.Ordinal) && message[4..8].All(char.IsAsciiDigit) ? message[..8] : null;
    }

    private static string Seconds(double s) => s.ToString("0.000", CultureInfo.InvariantCulture);

    private static string FirstLine(string text)
    {
        var newline = text.IndexOf('\n');
        return newline < 0 ? text : text[..newline];
    }

    /// <summary>Text without the control characters XML 1.0 cannot hold (serial console tails have them).</summary>
    private static string Clean(string text) =>
        new(text.Where(ch => ch is '\n' or '\t' or '\r' || (ch >= 0x20 && ch != 0xFFFE && ch != 0xFFFF && !char.IsSurrogate(ch))).ToArray());
}
