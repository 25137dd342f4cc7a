using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OpenTelemetry;

namespace Hypervisor.Actors.Telemetry;

/// <summary>
/// Writes the hypervisor's spans as a Chrome Trace Event JSON file that Perfetto
/// (ui.perfetto.dev) and chrome://tracing open as a timeline, and <c>hv report</c> reads:
/// process 1 "host worker threads" has one track per host thread that ran slices (each slice is
/// named after its VM: which VM ran when), process 2 "VMs" has one track per VM (its lifetime,
/// create, boot, slices and ending). Every event's args carry the span's trace and span ids, so a
/// log line of hv.log can be found on the timeline.
/// </summary>
/// <remarks>
/// An OpenTelemetry processor: <see cref="OnEnd"/> runs on the thread that ended the span and only
/// queues it; a background thread formats and writes, so a slice pays a queue insert. Nothing is
/// dropped. <see cref="Dispose"/> (or shutting the tracer provider down) writes the rest and closes
/// the JSON.
/// </remarks>
public sealed class ChromeTraceWriter : BaseProcessor<Activity>
{
    public const int HostPid = 1;
    public const int VmPid = 2;
    public const int FleetPid = 3;

    private readonly ConcurrentQueue<Activity> _queue = new();
    private readonly AutoResetEvent _signal = new(false);
    private readonly Thread _thread;
    private readonly Stream _stream;
    private readonly Utf8JsonWriter _json;
    private readonly long _originTicks;
    private readonly HashSet<int> _namedThreads = [];
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);
    private volatile bool _closing;
    private bool _closed;
    private bool _first = true;
    private long _events;

    private readonly Func<Activity, bool>? _filter;
    private readonly Dictionary<string, int> _vmTracks = new(StringComparer.Ordinal);

    /// <summary>
    /// Creates (overwrites) <paramref name="path"/>; throws IOException or UnauthorizedAccessException when it cannot.
    /// <paramref name="filter"/> keeps only some spans (a process running several fleets, as tests do); null = all.
    /// </summary>
    public ChromeTraceWriter(string path, Func<Activity, bool>? filter = null)
    {
        Path = path;
        _filter = filter;
        _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        _json = new Utf8JsonWriter(_stream, new JsonWriterOptions { Indented = false, SkipValidation = true });
        _originTicks = DateTime.UtcNow.Ticks;
        _stream.Write("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n"u8);
        Metadata(HostPid, "process_name", "host worker threads");
        Metadata(HostPid, "process_sort_index", 1);
        Metadata(VmPid, "process_name", "VMs");
        Metadata(VmPid, "process_sort_index", 2);
        Metadata(FleetPid, "process_name", "fleet");
        Metadata(FleetPid, "process_sort_index", 0);
        _thread = new Thread(Run) { IsBackground = true, Name = "hv-trace-writer" };
        _thread.Start();
    }

    public string Path { get; }

    /// <summary>Events written so far.</summary>
    public long Events => Interlocked.Read(ref _events);

    /// <summary>A key/value for the file's <c>otherData</c> (shown by chrome://tracing's metadata view).</summary>
    public void SetMetadata(string key, string value)
    {
        lock (_metadata)
        {
            _metadata[key] = value;
        }
    }

    public override void OnEnd(Activity data)
    {
        if (data.Source.Name.StartsWith("Hypervisor.", StringComparison.Ordinal) && (_filter is null || _filter(data)))
        {
            _queue.Enqueue(data);
        }
    }

    protected override bool OnForceFlush(int timeoutMilliseconds)
    {
        lock (_json)
        {
            Drain();
        }
        return true;
    }

    protected override bool OnShutdown(int timeoutMilliseconds)
    {
        Close();
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Close();
        }
        base.Dispose(disposing);
    }

    private void Close()
    {
        _closing = true;
        _signal.Set();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }
        lock (_json)
        {
            if (_closed)
            {
                return;
            }
            _closed = true;
            Drain();
            _json.Flush();
            _stream.Write("\n],\n\"otherData\":"u8);
            _json.Reset();
            _json.WriteStartObject();
            _json.WriteString("generator", "hv " + HvTelemetry.Version);
            lock (_metadata)
            {
                foreach ((string k, string v) in _metadata)
                {
                    _json.WriteString(k, v);
                }
            }
            _json.WriteEndObject();
            _json.Flush();
            _stream.Write("}\n"u8);
            _stream.Dispose();
            _json.Dispose();
        }
    }

    private void Run()
    {
        while (!_closing)
        {
            _signal.WaitOne(200);
            lock (_json)
            {
                if (!_closed)
                {
                    Drain();
                }
            }
        }
    }

    private void Drain()
    {
        while (_queue.TryDequeue(out Activity? a))
        {
            Write(a);
        }
        _json.Flush();
    }

    private void Write(Activity a)
    {
        string? vm = a.GetTagItem(HvTelemetry.Attributes.VmName) as string;
        int order = a.GetTagItem(HvTelemetry.Attributes.VmIndex) is int i ? i : 0;
        double ts = (a.StartTimeUtc.Ticks - _originTicks) / 10.0;
        double dur = Math.Max(a.Duration.Ticks / 10.0, 0.001);
        if (a.OperationName == HvTelemetry.Spans.FleetRun)
        {
            Complete(a, a.OperationName, "fleet", ts, dur, FleetPid, 1);
            return;
        }
        if (vm is null)
        {
            return;
        }
        if (!_vmTracks.TryGetValue(vm, out int vmIndex))
        {
            vmIndex = _vmTracks.Count;
            _vmTracks[vm] = vmIndex;
            Metadata(VmPid, "thread_name", vm, vmIndex);
            Metadata(VmPid, "thread_sort_index", order, vmIndex);
        }
        if (a.OperationName == HvTelemetry.Spans.VmSlice)
        {
            int thread = a.GetTagItem(HvTelemetry.Attributes.ThreadId) is int t ? t : 0;
            if (_namedThreads.Add(thread))
            {
                string name = a.GetTagItem(HvTelemetry.Attributes.ThreadName) as string ?? $"thread {thread}";
                Metadata(HostPid, "thread_name", name, thread);
            }
            Complete(a, vm, "slice", ts, dur, HostPid, thread);
            string exit = a.GetTagItem(HvTelemetry.Attributes.SliceExitReason) as string ?? "slice";
            Complete(a, exit, "slice", ts, dur, VmPid, vmIndex);
            return;
        }
        Complete(a, a.OperationName, "vm", ts, dur, VmPid, vmIndex);
    }

    private void Complete(Activity a, string name, string category, double ts, double dur, int pid, int tid)
    {
        BeginEvent();
        _json.WriteString("name", name);
        _json.WriteString("cat", category);
        _json.WriteString("ph", "X");
        _json.WriteNumber("ts", Math.Round(ts, 3));
        _json.WriteNumber("dur", Math.Round(dur, 3));
        _json.WriteNumber("pid", pid);
        _json.WriteNumber("tid", tid);
        _json.WriteStartObject("args");
        _json.WriteString("span", a.OperationName);
        _json.WriteString("trace_id", a.TraceId.ToHexString());
        _json.WriteString("span_id", a.SpanId.ToHexString());
        if (a.Status == ActivityStatusCode.Error)
        {
            _json.WriteString("status", "error" + (a.StatusDescription is { } d ? ": " + d : ""));
        }
        foreach (KeyValuePair<string, object?> tag in a.TagObjects)
        {
            WriteValue(tag.Key, tag.Value);
        }
        _json.WriteEndObject();
        _json.WriteEndObject();
        _json.Flush();
        Interlocked.Increment(ref _events);
    }

    private void WriteValue(string key, object? value)
    {
        switch (value)
        {
            case null:
                break;
            case string s:
                _json.WriteString(key, s);
                break;
            case bool b:
                _json.WriteBoolean(key, b);
                break;
            case int n:
                _json.WriteNumber(key, n);
                break;
            case long n:
                _json.WriteNumber(key, n);
                break;
            case double d when double.IsFinite(d):
                _json.WriteNumber(key, d);
                break;
            case long[] array:
                _json.WriteStartArray(key);
                foreach (long n in array)
                {
                    _json.WriteNumberValue(n);
                }
                _json.WriteEndArray();
                break;
            default:
                _json.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    private void Metadata(int pid, string name, object value, int tid = 0)
    {
        BeginEvent();
        _json.WriteString("name", name);
        _json.WriteString("ph", "M");
        _json.WriteNumber("pid", pid);
        _json.WriteNumber("tid", tid);
        _json.WriteStartObject("args");
        if (value is int n)
        {
            _json.WriteNumber("sort_index", n);
        }
        else
        {
            _json.WriteString("name", (string)value);
        }
        _json.WriteEndObject();
        _json.WriteEndObject();
        _json.Flush();
    }

    /// <summary>Starts an event: the separator from the previous one.</summary>
    private void BeginEvent()
    {
        if (_first)
        {
            _first = false;
        }
        else
        {
            _stream.Write(",\n"u8);
        }
        _json.Reset();
        _json.WriteStartObject();
    }
}
