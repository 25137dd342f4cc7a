using System.Globalization;
using System.Text.Json;

namespace Hypervisor.Cli.Report;

/// <summary>One complete ("X") event of a Chrome trace: times in microseconds from the trace's origin.</summary>
public sealed record TraceEvent(string Name, int Pid, int Tid, double Start, double Duration, JsonElement Args)
{
    public double End => Start + Duration;

    public string? Arg(string key) => Args.ValueKind == JsonValueKind.Object && Args.TryGetProperty(key, out JsonElement v)
        ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText()
        : null;

    public long LongArg(string key) => long.TryParse(Arg(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? n : 0;

    public double DoubleArg(string key) => double.TryParse(Arg(key), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : 0;

    public long[] ArrayArg(string key)
    {
        if (Args.ValueKind != JsonValueKind.Object || !Args.TryGetProperty(key, out JsonElement v) || v.ValueKind != JsonValueKind.Array)
        {
            return [];
        }
        return v.EnumerateArray().Select(e => e.TryGetInt64(out long n) ? n : 0).ToArray();
    }
}

/// <summary>
/// A trace file written by <c>hv run --trace-out</c> (Chrome Trace Event JSON), read back: the slices
/// on host threads (process 1), the VM tracks (process 2) and the fleet span (process 3).
/// </summary>
public sealed class TraceFile
{
    public const int HostPid = 1;
    public const int VmPid = 2;
    public const int FleetPid = 3;

    private TraceFile(List<TraceEvent> events, Dictionary<(int Pid, int Tid), string> names, Dictionary<string, string> other)
    {
        Events = events;
        ThreadNames = names;
        OtherData = other;
    }

    public IReadOnlyList<TraceEvent> Events { get; }

    /// <summary>Track names from the thread_name metadata events.</summary>
    public IReadOnlyDictionary<(int Pid, int Tid), string> ThreadNames { get; }

    public IReadOnlyDictionary<string, string> OtherData { get; }

    /// <summary>Reads a trace; a file that is not a Chrome trace is an <see cref="InvalidDataException"/> saying why.</summary>
    public static TraceFile Load(string path)
    {
        using FileStream stream = File.OpenRead(path);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"not JSON ({e.Message})");
        }
        using (doc)
        {
            JsonElement root = doc.RootElement;
            JsonElement array = root.ValueKind == JsonValueKind.Array ? root
                : root.ValueKind == JsonValueKind.Object && root.TryGetProperty("traceEvents", out JsonElement te) ? te
                : throw new InvalidDataException("not a Chrome trace (no traceEvents)");
            if (array.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException("traceEvents is not a list");
            }
            var events = new List<TraceEvent>();
            var names = new Dictionary<(int, int), string>();
            foreach (JsonElement e in array.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("ph", out JsonElement ph))
                {
                    continue;
                }
                int pid = Int(e, "pid");
                int tid = Int(e, "tid");
                string name = e.TryGetProperty("name", out JsonElement n) ? n.GetString() ?? "" : "";
                JsonElement args = e.TryGetProperty("args", out JsonElement a) ? a.Clone() : default;
                if (ph.GetString() == "M")
                {
                    if (name == "thread_name" && args.ValueKind == JsonValueKind.Object && args.TryGetProperty("name", out JsonElement tn))
                    {
                        names[(pid, tid)] = tn.GetString() ?? "";
                    }
                    continue;
                }
                if (ph.GetString() != "X")
                {
                    continue;
                }
                events.Add(new TraceEvent(name, pid, tid, Double(e, "ts"), Double(e, "dur"), args));
            }
            var other = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("otherData", out JsonElement od) && od.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty p in od.EnumerateObject())
                {
                    other[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() ?? "" : p.Value.GetRawText();
                }
            }
            events.Sort((x, y) => x.Start.CompareTo(y.Start));
            return new TraceFile(events, names, other);
        }
    }

    private static int Int(JsonElement e, string key) =>
        e.TryGetProperty(key, out JsonElement v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) ? n : 0;

    private static double Double(JsonElement e, string key) =>
        e.TryGetProperty(key, out JsonElement v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0;
}
