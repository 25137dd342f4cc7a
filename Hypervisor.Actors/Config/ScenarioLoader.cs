using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Akka.Configuration;
using Akka.Configuration.Hocon;
using Hypervisor.Devices;
using Hypervisor.Engines.Hybrid;
using Hypervisor.Loading;
using Hypervisor.Machine;
using Hypervisor.Monitor;
using AkkaConfig = Akka.Configuration.Config;

namespace Hypervisor.Actors.Config;

/// <summary>
/// Reads a scenario HOCON file over the reference defaults (hocon/hypervisor.conf, embedded) and
/// binds it to typed settings. Every problem becomes one <see cref="ScenarioException"/> naming the
/// file and the key; every image is loaded and every distinct machine is built once up front, so a
/// scenario either starts whole or not at all.
/// </summary>
public static partial class ScenarioLoader
{
    private const string Root = "hypervisor";

    /// <summary>The reference configuration text (hocon/hypervisor.conf).</summary>
    public static string ReferenceText { get; } = ReadReference();

    private static readonly AkkaConfig Reference = ConfigurationFactory.ParseString(ReferenceText);

    public static Scenario Load(string path)
    {
        string display = path;
        if (!File.Exists(path))
        {
            throw new ScenarioException(display, "", Directory.Exists(path) ? "a directory, not a scenario file" : "no such file");
        }
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScenarioException(display, "", e.Message);
        }
        return Parse(text, display, Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>Parses scenario text; relative paths resolve against <paramref name="baseDir"/>.</summary>
    public static Scenario Parse(string text, string file, string baseDir)
    {
        if (HoconLint.Check(text) is (int line, int column, string problem))
        {
            throw new ScenarioException(file, $"line {line}, column {column}", $"malformed HOCON: {problem}");
        }
        AkkaConfig parsed;
        try
        {
            parsed = ConfigurationFactory.ParseString(text);
        }
        catch (Exception e)
        {
            throw MalformedHocon(file, text, e.Message);
        }
        var reader = new Reader(file, baseDir);
        reader.CheckKeys(parsed);
        AkkaConfig merged = parsed.WithFallback(Reference);
        HypervisorSettings settings = reader.ReadSettings(merged.GetConfig(Root));
        IReadOnlyList<VmSpec> vms = reader.ReadVms(parsed, merged.GetConfig(Root), settings);
        // The actor system reads the scenario's own akka block (and any vm-dispatcher tuning) from its text.
        string akka = parsed.HasPath("akka") || parsed.HasPath($"{Root}.vm-dispatcher") ? text : "";
        return new Scenario(file, settings, vms, akka);
    }

    /// <summary>
    /// Akka's parser reports "Unknown token at position N:" followed by the text and a caret on
    /// further lines; this makes it one line that names the line and column.
    /// </summary>
    private static ScenarioException MalformedHocon(string file, string text, string message)
    {
        string first = message.Split('\n')[0].Trim().TrimEnd(':');
        Match m = Regex.Match(first, @"^(.*?)\s*at position (\d+)$");
        if (m.Success && int.TryParse(m.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int position) && position <= text.Length)
        {
            int line = 1 + text.AsSpan(0, position).Count('\n');
            int column = position - (text.LastIndexOf('\n', Math.Max(0, position - 1)) + 1) + 1;
            string problem = m.Groups[1].Value.ToLowerInvariant();
            if (problem == "unknown token" && CommaAfterBrace(text, position))
            {
                problem += " (Akka's HOCON parser takes no comma after a closing '}': leave it out or start a new line)";
            }
            return new ScenarioException(file, $"line {line}, column {column}", $"malformed HOCON: {problem}");
        }
        if (first.Contains("Object reference not set", StringComparison.Ordinal) && IncludePattern().IsMatch(text))
        {
            // Akka's parser has no file includes here and fails inside with a NullReferenceException.
            return new ScenarioException(file, "include", "scenarios cannot include other files: put the keys in this file (hocon/hypervisor.conf gives the defaults)");
        }
        return new ScenarioException(file, "", $"malformed HOCON: {first}");
    }

    /// <summary>True when the text before <paramref name="position"/> ends in '}' and a comma (spaces between).</summary>
    private static bool CommaAfterBrace(string text, int position)
    {
        int i = Math.Min(position, text.Length) - 1;
        while (i >= 0 && char.IsWhiteSpace(text[i]))
        {
            i--;
        }
        if (i < 0 || text[i] != ',')
        {
            i = Math.Min(position, text.Length - 1);
            if (i < 0 || text[i] != ',')
            {
                return false;
            }
        }
        i--;
        while (i >= 0 && char.IsWhiteSpace(text[i]))
        {
            i--;
        }
        return i >= 0 && text[i] == '}';
    }

    private static string ReadReference()
    {
        using Stream? s = typeof(ScenarioLoader).Assembly.GetManifestResourceStream("Hypervisor.Actors.hypervisor.conf");
        if (s is null)
        {
            throw new InvalidOperationException("the reference configuration hypervisor.conf is not embedded");
        }
        using var r = new StreamReader(s, Encoding.UTF8);
        return r.ReadToEnd();
    }

    [GeneratedRegex(@"(^|\n)\s*include\s")]
    private static partial Regex IncludePattern();

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex NamePattern();

    /// <summary>Typed reads that turn every bad value into a <see cref="ScenarioException"/>.</summary>
    private sealed partial class Reader(string file, string baseDir)
    {
        private static readonly string[] DeviceKeys = ["type", "source", "period", "start", "width", "count", "rate", "burst", "seed", "duration"];

        /// <summary>The keys each device type takes (pulse drives a PLIC line; the others the interrupt generator).</summary>
        private static readonly Dictionary<string, string[]> DeviceTypeKeys = new(StringComparer.Ordinal)
        {
            ["pulse"] = ["type", "source", "period", "start", "width", "count"],
            ["steady"] = ["type", "source", "rate", "start", "count", "duration"],
            ["storm"] = ["type", "source", "rate", "start", "count", "duration"],
            ["burst"] = ["type", "source", "burst", "period", "start", "count", "duration"],
            ["poisson"] = ["type", "source", "rate", "seed", "start", "count", "duration"],
        };

        private ScenarioException Error(string key, string problem) => new(file, key, problem);

        public void CheckKeys(AkkaConfig parsed)
        {
            if (parsed.Root is null || !parsed.Root.IsObject())
            {
                return;
            }
            foreach ((string key, HoconValue value) in parsed.Root.GetObject().Items)
            {
                if (key == "akka")
                {
                    continue; // passed through to the actor system
                }
                if (key != Root)
                {
                    throw Error(key, "unknown key (a scenario sets keys under 'hypervisor', see hocon/hypervisor.conf)");
                }
                CheckObject(value, Reference.GetValue(Root), Root);
            }
        }

        private void CheckObject(HoconValue value, HoconValue reference, string path)
        {
            if (!value.IsObject())
            {
                throw Error(path, "must be an object { ... }");
            }
            Dictionary<string, HoconValue> known = reference.GetObject().Items;
            foreach ((string key, HoconValue child) in value.GetObject().Items)
            {
                string p = $"{path}.{key}";
                if (!known.TryGetValue(key, out HoconValue? refChild))
                {
                    throw Error(p, $"unknown key (known here: {string.Join(", ", known.Keys)})");
                }
                if (child.IsEmpty)
                {
                    throw Error(p, "has no value");
                }
                if (p == $"{Root}.vm-dispatcher")
                {
                    continue; // an Akka dispatcher block: Akka checks it
                }
                if (p == $"{Root}.vms")
                {
                    CheckVmList(child, p);
                }
                else if (refChild.IsObject())
                {
                    CheckObject(child, refChild, p);
                }
                else if (child.IsObject())
                {
                    throw Error(p, IsList(refChild) ? "must be a list [ ... ], not an object" : "must be a value, not an object");
                }
            }
        }

        /// <summary>True when the reference value is a list; Akka's IsArray says no for an empty one (devices = []).</summary>
        private static bool IsList(HoconValue value) =>
            value.IsArray() || (value.Values.Count == 1 && value.Values[0] is HoconArray);

        private void CheckVmList(HoconValue list, string path)
        {
            IList<HoconValue> entries = List(list, path, "a list [ { name = ..., image = ... }, ... ]");
            HoconValue defaults = Reference.GetValue($"{Root}.vm-defaults");
            for (int i = 0; i < entries.Count; i++)
            {
                CheckObject(entries[i], defaults, $"{path}[{i}]");
            }
        }

        public HypervisorSettings ReadSettings(AkkaConfig h)
        {
            int parallelism = (int)Integer(h, "host-parallelism", Root, 0, 1024);
            return new HypervisorSettings
            {
                HostParallelism = parallelism == 0 ? Environment.ProcessorCount : parallelism,
                SliceInstructions = (ulong)Integer(h, "scheduler.slice", Root, 1_000, 1_000_000_000),
                CapPeriod = Duration(h, "scheduler.cap-period", Root, allowZero: false),
                IdleLookaheadTicks = Ticks(h, "scheduler.idle-lookahead", Root),
                SourceWindowTicks = Math.Max(1, Ticks(h, "scheduler.source-window", Root)),
                RealtimeWakeSlack = Duration(h, "scheduler.realtime-wake-slack", Root, allowZero: true),
                OutputDir = String(h, "output.dir", Root),
                TerminalOutput = Boolean(h, "output.terminal", Root),
                TerminalLogLevel = LogLevel(h, "log.terminal-level", Root),
                FileLogLevel = LogLevel(h, "log.file-level", Root),
                StopAfter = Duration(h, "stop-after", Root, allowZero: true) is { } d && d > TimeSpan.Zero ? d : null,
                Telemetry = ReadTelemetry(h),
            };
        }

        public IReadOnlyList<VmSpec> ReadVms(AkkaConfig parsed, AkkaConfig h, HypervisorSettings settings)
        {
            string listPath = $"{Root}.vms";
            IList<HoconValue> entries = List(parsed.HasPath(listPath) ? parsed.GetValue(listPath) : null, listPath, "a list [ { name = ..., image = ... }, ... ]");
            if (entries.Count == 0)
            {
                throw Error(listPath, "the scenario has no VMs (add entries: vms = [ { name = ..., image = ... } ])");
            }
            AkkaConfig defaults = h.GetConfig("vm-defaults");
            TimeMode fleetMode = TimeModeValue(h, "time.mode", Root, allowInherit: false, TimeMode.Virtual);
            uint fleetIpt = (uint)Integer(h, "time.instructions-per-tick", Root, 1, 1_000_000);
            double fleetScale = Real(h, "time.realtime-scale", Root);
            if (fleetScale <= 0)
            {
                throw Error($"{Root}.time.realtime-scale", $"must be a positive number (got {fleetScale})");
            }

            var images = new Dictionary<string, ElfImage>(StringComparer.Ordinal);
            var checkedMachines = new HashSet<(string, MachineConfig)>();
            var result = new List<VmSpec>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (int i = 0; i < entries.Count; i++)
            {
                string at = $"{listPath}[{i}]";
                AkkaConfig e = new AkkaConfig(new HoconRoot(entries[i])).WithFallback(defaults);
                string name = String(e, "name", at);
                if (name.Length == 0)
                {
                    throw Error($"{at}.name", "is required (a name made of letters, digits, '.', '_' or '-')");
                }
                if (!NamePattern().IsMatch(name))
                {
                    throw Error($"{at}.name", $"'{name}' may only hold letters, digits, '.', '_' and '-'");
                }
                string imageText = String(e, "image", at);
                if (imageText.Length == 0)
                {
                    throw Error($"{at}.image", "is required (the guest ELF to run)");
                }
                string imagePath = Path.GetFullPath(Path.Combine(baseDir, imageText));
                if (!images.TryGetValue(imagePath, out ElfImage? image))
                {
                    if (!File.Exists(imagePath))
                    {
                        throw Error($"{at}.image", Directory.Exists(imagePath) ? $"{imagePath}: a directory, not an ELF file" : $"{imagePath}: no such file");
                    }
                    try
                    {
                        image = ElfImage.Load(imagePath);
                    }
                    catch (ElfLoadException ex)
                    {
                        throw Error($"{at}.image", ex.Message);
                    }
                    images[imagePath] = image;
                }

                long count = Integer(e, "count", at, 1, 100_000);
                uint memory = Size(e, "memory", at);
                long quota = (long)Size(e, "memory-quota", at, allowZero: true);
                string engineText = String(e, "engine", at);
                if (!EngineFactory.TryParse(engineText, out EngineKind engine))
                {
                    throw Error($"{at}.engine", $"'{engineText}' is not an engine (interp, bt, hybrid)");
                }
                string policyText = String(e, "hybrid-policy", at);
                if (!EngineFactory.TryParsePolicy(policyText, out HybridPolicy policy))
                {
                    throw Error($"{at}.hybrid-policy", $"'{policyText}' is not a hybrid policy (mode-split, hot-threshold, trap-and-emulate)");
                }
                long hotThreshold = Integer(e, "hot-threshold", at, 1, 1_000_000_000);
                long translationThreshold = Integer(e, "translation-threshold", at, 0, 1_000_000_000);
                bool backgroundCompilation = Boolean(e, "background-compilation", at);
                long weight = Integer(e, "weight", at, long.MinValue, long.MaxValue);
                if (weight <= 0 || weight > 10_000)
                {
                    throw Error($"{at}.weight", $"must be a positive integer up to 10000 (got {weight})");
                }
                long cap = Integer(e, "cap", at, 0, 100);
                long slice = Integer(e, "slice", at, 0, 1_000_000_000);
                TimeMode mode = TimeModeValue(e, "time-mode", at, allowInherit: true, fleetMode);
                long ipt = Integer(e, "instructions-per-tick", at, 0, 1_000_000);
                double scale = Real(e, "realtime-scale", at);
                if (scale < 0)
                {
                    throw Error($"{at}.realtime-scale", $"must be positive, or 0 to inherit (got {scale})");
                }
                var machine = new MachineConfig
                {
                    MemorySize = memory,
                    MemoryQuota = quota == 0 ? null : quota,
                    Engine = engine,
                    HybridPolicy = policy,
                    HotThreshold = (int)hotThreshold,
                    TranslationThreshold = translationThreshold == 0 ? null : (int)translationThreshold,
                    BackgroundCompilation = backgroundCompilation,
                    TimeMode = mode,
                    InstructionsPerTick = ipt == 0 ? fleetIpt : (uint)ipt,
                    RealtimeScale = scale == 0 ? fleetScale : scale,
                };
                try
                {
                    machine.Validate();
                }
                catch (ArgumentException ex)
                {
                    string key = ex.Message.StartsWith("memory quota", StringComparison.Ordinal) ? "memory-quota" : "memory";
                    throw Error($"{at}.{key}", ex.Message);
                }
                if (checkedMachines.Add((imagePath, machine)))
                {
                    // Build the machine once: the engine must exist and the image must fit.
                    try
                    {
                        _ = new VirtualMachine(name, image, machine);
                    }
                    catch (NotSupportedException ex)
                    {
                        throw Error($"{at}.engine", ex.Message.Replace("--engine ", "engine = ", StringComparison.Ordinal));
                    }
                    catch (ElfLoadException ex)
                    {
                        throw Error($"{at}.image", ex.Message);
                    }
                }
                string restartText = String(e, "restart", at);
                RestartPolicy restart = restartText switch
                {
                    "stop" => RestartPolicy.Stop,
                    "restart" => RestartPolicy.Restart,
                    _ => throw Error($"{at}.restart", $"'{restartText}' is not a restart policy (stop, restart)"),
                };
                long rate = Integer(e, "interrupt-rate-limit", at, 0, 1_000_000_000);
                FaultInjection fault = ReadFaultInjection(e, $"{at}.fault-injection");
                ConsoleSpec console = ReadConsole(e, $"{at}.console");
                IReadOnlyList<DeviceSpec> devices = ReadDevices(e, $"{at}.devices", mode);

                for (long n = 1; n <= count; n++)
                {
                    string vmName = count == 1 ? name : $"{name}-{n}";
                    if (!names.Add(vmName))
                    {
                        throw Error($"{at}.name", $"'{vmName}' is used by another VM (names must be unique)");
                    }
                    result.Add(new VmSpec
                    {
                        Name = vmName,
                        ImagePath = imagePath,
                        Machine = machine,
                        Weight = (int)weight,
                        CapPercent = (int)cap,
                        SliceQuota = (ulong)slice,
                        Restart = restart,
                        FaultInjection = fault,
                        InterruptRateLimit = rate,
                        Console = console,
                        Devices = devices,
                    });
                }
            }
            _ = settings;
            return result;
        }

        private FaultInjection ReadFaultInjection(AkkaConfig e, string at)
        {
            AkkaConfig f = e.GetConfig("fault-injection");
            string kindText = String(f, "kind", at);
            long atInstret = Integer(f, "at-instret", at, 0, long.MaxValue);
            if (!FaultInjection.TryParseKind(kindText, out FaultKind kind))
            {
                throw Error($"{at}.kind", $"'{kindText}' is not a fault kind (none, host-exception)");
            }
            if (kind == FaultKind.None)
            {
                return atInstret == 0
                    ? FaultInjection.None
                    : throw Error($"{at}.at-instret", "is set but kind = none injects nothing (set kind = host-exception)");
            }
            if (atInstret < 1)
            {
                throw Error($"{at}.at-instret", $"must be at least 1 with kind = {kindText} (the instret at which the fault strikes)");
            }
            return new FaultInjection(kind, (ulong)atInstret);
        }

        private ConsoleSpec ReadConsole(AkkaConfig e, string at)
        {
            AkkaConfig c = e.GetConfig("console");
            // Akka's HOCON leaves escapes unprocessed inside lists of objects: honour \n \r \t \\ here.
            _ = String(c, "input", at); // type check
            HoconValue raw = c.GetValue("input");
            // GetString trims: a quoted string (one literal) is taken exactly, so "line\n" keeps its newline.
            string input = Unescape(raw.Values.Count == 1 ? raw.Values[0].GetString() : raw.GetString());
            string inputFile = String(c, "input-file", at);
            var bytes = new List<byte>(Encoding.UTF8.GetBytes(input));
            if (inputFile.Length > 0)
            {
                string p = Path.GetFullPath(Path.Combine(baseDir, inputFile));
                if (!File.Exists(p))
                {
                    throw Error($"{at}.input-file", $"{p}: no such file");
                }
                bytes.AddRange(File.ReadAllBytes(p));
            }
            ulong when = Ticks(c, "input-at", at);
            return bytes.Count == 0 ? ConsoleSpec.None : new ConsoleSpec([.. bytes], when);
        }

        private IReadOnlyList<DeviceSpec> ReadDevices(AkkaConfig e, string at, TimeMode mode)
        {
            IList<HoconValue> items = List(e.GetValue("devices"), at, "a list of device objects");
            var result = new List<DeviceSpec>();
            var sources = new Dictionary<long, int>();
            for (int i = 0; i < items.Count; i++)
            {
                string p = $"{at}[{i}]";
                if (!items[i].IsObject())
                {
                    throw Error(p, "must be an object { type = pulse, source = ..., period = ... }");
                }
                foreach (string key in items[i].GetObject().Items.Keys)
                {
                    if (!DeviceKeys.Contains(key))
                    {
                        throw Error($"{p}.{key}", $"unknown key (known here: {string.Join(", ", DeviceKeys)})");
                    }
                }
                AkkaConfig d = new AkkaConfig(new HoconRoot(items[i])).WithFallback(ConfigurationFactory.ParseString(
                    "type = pulse, source = 0, period = 0, start = 0, width = 100us, count = 0, rate = 0, burst = 1, seed = 1, duration = 0"));
                string type = String(d, "type", p);
                if (!DeviceTypeKeys.TryGetValue(type, out string[]? keys))
                {
                    throw Error($"{p}.type", $"'{type}' is not a device type ({string.Join(", ", DeviceTypeKeys.Keys)})");
                }
                foreach (string key in items[i].GetObject().Items.Keys)
                {
                    if (!keys.Contains(key))
                    {
                        throw Error($"{p}.{key}", $"does not apply to a {type} device (its keys: {string.Join(", ", keys)})");
                    }
                }
                if (type == "pulse")
                {
                    result.Add(ReadPulse(d, p, sources, i));
                    continue;
                }
                if (mode != TimeMode.Virtual)
                {
                    throw Error($"{p}.type", $"{type} traffic is published ahead in virtual time: the VM's time-mode must be virtual");
                }
                long source = Integer(d, "source", p, InterruptGenerator.FirstSource, InterruptGenerator.FirstSource + InterruptGenerator.SourceCount - 1);
                Claim(sources, source, p, i);
                long rate = type is "burst" ? 0 : Rate(d, p, type == "storm");
                int burst = type == "burst" ? (int)Integer(d, "burst", p, 1, 1_000_000) : 1;
                ulong period = type == "burst" ? Ticks(d, "period", p) : 0;
                if (type == "burst" && period == 0)
                {
                    throw Error($"{p}.period", "must be a positive virtual duration between bursts (e.g. 1ms)");
                }
                long seed = type == "poisson" ? Integer(d, "seed", p, 0, long.MaxValue) : 0;
                result.Add(new DeviceSpec(type, (int)source, period, Ticks(d, "start", p), 0, Integer(d, "count", p, 0, long.MaxValue / 8),
                    rate, burst, (ulong)seed, Ticks(d, "duration", p)));
            }
            return result;
        }

        private DeviceSpec ReadPulse(AkkaConfig d, string p, Dictionary<long, int> sources, int index)
        {
            long source = Integer(d, "source", p, 1, 63);
            Claim(sources, source, p, index);
            ulong period = Ticks(d, "period", p);
            if (period == 0)
            {
                throw Error($"{p}.period", "must be a positive virtual duration (e.g. 1ms)");
            }
            ulong width = Math.Max(1, Ticks(d, "width", p));
            if (width >= period)
            {
                throw Error($"{p}.width", "must be shorter than the period");
            }
            return new DeviceSpec("pulse", (int)source, period, Ticks(d, "start", p), width, Integer(d, "count", p, 0, long.MaxValue));
        }

        /// <summary>One device per line: two drivers of one PLIC source would fight over it.</summary>
        private void Claim(Dictionary<long, int> sources, long source, string p, int index)
        {
            if (sources.TryGetValue(source, out int other))
            {
                throw Error($"{p}.source", $"source {source} is already driven by device [{other}] of this VM");
            }
            sources[source] = index;
        }

        /// <summary>Events per second of virtual time: an integer (with an optional k or M suffix) up to 10M, or "max" (one event per mtime tick).</summary>
        private long Rate(AkkaConfig d, string p, bool maxByDefault)
        {
            string text = Raw(d, "rate", p).Trim();
            if (text == "max" || (maxByDefault && text == "0"))
            {
                return Devices.TrafficPattern.MaxRate;
            }
            long multiplier = text.EndsWith('k') || text.EndsWith('K') ? 1_000 : text.EndsWith('M') ? 1_000_000 : 1;
            string digits = multiplier == 1 ? text : text[..^1];
            if (!double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || double.IsNaN(value) ||
                value * multiplier != Math.Floor(value * multiplier))
            {
                throw Error($"{p}.rate", $"'{text}' is not a rate (events per second of virtual time: 1000, 250k, 2M or max)");
            }
            double rate = value * multiplier;
            if (rate < 1 || rate > Devices.TrafficPattern.MaxRate)
            {
                throw Error($"{p}.rate", $"must be between 1 and 10M events per second of virtual time, or max (got {text})");
            }
            return (long)rate;
        }

        /// <summary>The items of a list value (Akka's HOCON does not call an empty list an array).</summary>
        private IList<HoconValue> List(HoconValue? v, string at, string what)
        {
            if (v is null || v.IsEmpty || (v.IsString() && v.GetString().Length == 0 && !v.IsArray()))
            {
                return [];
            }
            if (v.IsObject() || (!v.IsArray() && v.IsString()))
            {
                throw Error(at, $"must be {what}");
            }
            try
            {
                return v.GetArray();
            }
            catch (Exception)
            {
                throw Error(at, $"must be {what}");
            }
        }

        private string Raw(AkkaConfig c, string key, string at)
        {
            HoconValue? v = c.GetValue(key);
            if (v is null || v.IsEmpty)
            {
                throw Error($"{at}.{key}", "has no value");
            }
            if (v.IsObject() || v.IsArray())
            {
                throw Error($"{at}.{key}", "must be a single value");
            }
            return v.GetString() ?? "";
        }

        private string String(AkkaConfig c, string key, string at) => Raw(c, key, at);

        private bool Boolean(AkkaConfig c, string key, string at) => Raw(c, key, at).ToLowerInvariant() switch
        {
            "true" or "on" or "yes" => true,
            "false" or "off" or "no" => false,
            string s => throw Error($"{at}.{key}", $"'{s}' is not a boolean (true, false)"),
        };

        private long Integer(AkkaConfig c, string key, string at, long min, long max)
        {
            string s = Raw(c, key, at);
            if (!long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n))
            {
                throw Error($"{at}.{key}", $"'{s}' is not an integer");
            }
            if (n < min || n > max)
            {
                throw Error($"{at}.{key}", $"must be between {min} and {max} (got {n})");
            }
            return n;
        }

        private double Real(AkkaConfig c, string key, string at)
        {
            string s = Raw(c, key, at);
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || double.IsNaN(d) || double.IsInfinity(d))
            {
                throw Error($"{at}.{key}", $"'{s}' is not a number");
            }
            return d;
        }

        private uint Size(AkkaConfig c, string key, string at, bool allowZero = false)
        {
            string s = Raw(c, key, at);
            try
            {
                uint n = MachineConfig.ParseSize(s);
                if (n == 0 && !allowZero)
                {
                    throw Error($"{at}.{key}", "must not be 0");
                }
                return n;
            }
            catch (FormatException ex)
            {
                throw Error($"{at}.{key}", ex.Message);
            }
        }

        private TimeSpan Duration(AkkaConfig c, string key, string at, bool allowZero)
        {
            string s = Raw(c, key, at);
            if (!TryParseDuration(s, out TimeSpan d))
            {
                throw Error($"{at}.{key}", $"'{s}' is not a duration (examples: 10ms, 500us, 2s, 0)");
            }
            if (d == TimeSpan.Zero && !allowZero)
            {
                throw Error($"{at}.{key}", "must be longer than 0");
            }
            return d;
        }

        /// <summary>A virtual duration in mtime ticks (100 ns each: TimeSpan ticks are exactly mtime ticks).</summary>
        private ulong Ticks(AkkaConfig c, string key, string at) => (ulong)Duration(c, key, at, allowZero: true).Ticks;

        private string LogLevel(AkkaConfig c, string key, string at)
        {
            string s = Raw(c, key, at).ToLowerInvariant();
            return s is "verbose" or "debug" or "information" or "warning" or "error" or "fatal"
                ? s
                : throw Error($"{at}.{key}", $"'{s}' is not a log level (verbose, debug, information, warning, error, fatal)");
        }

        private TimeMode TimeModeValue(AkkaConfig c, string key, string at, bool allowInherit, TimeMode inherited)
        {
            string s = Raw(c, key, at);
            return s switch
            {
                "virtual" => TimeMode.Virtual,
                "realtime" => TimeMode.Realtime,
                "inherit" when allowInherit => inherited,
                _ => throw Error($"{at}.{key}", $"'{s}' is not a time mode (virtual, realtime{(allowInherit ? ", inherit" : "")})"),
            };
        }
    }

    /// <summary>Honours the escapes \n, \r, \t and \\ in console input (Akka's HOCON leaves them as they are inside lists of objects).</summary>
    internal static string Unescape(string text)
    {
        if (!text.Contains('\\', StringComparison.Ordinal))
        {
            return text;
        }
        var sb = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length)
            {
                char next = text[i + 1];
                char? mapped = next switch { 'n' => '\n', 'r' => '\r', 't' => '\t', '\\' => '\\', _ => null };
                if (mapped is char m)
                {
                    sb.Append(m);
                    i++;
                    continue;
                }
            }
            sb.Append(text[i]);
        }
        return sb.ToString();
    }

    /// <summary>Parses "10ms", "1.5s", "500us", "100ns", "2m", "1h" or "0".</summary>
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        Match m = Regex.Match(text.Trim(), @"^([0-9]+(?:\.[0-9]+)?)\s*(ns|us|µs|ms|s|m|min|h)?$");
        if (!m.Success)
        {
            return false;
        }
        double n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        string unit = m.Groups[2].Value;
        if (unit.Length == 0 && n != 0)
        {
            return false;
        }
        double ticks = unit switch
        {
            "ns" => n / 100,
            "us" or "µs" => n * 10,
            "ms" => n * TimeSpan.TicksPerMillisecond,
            "s" => n * TimeSpan.TicksPerSecond,
            "m" or "min" => n * TimeSpan.TicksPerMinute,
            "h" => n * TimeSpan.TicksPerHour,
            _ => 0,
        };
        if (ticks > long.MaxValue / 2)
        {
            return false;
        }
        value = TimeSpan.FromTicks((long)Math.Round(ticks));
        return true;
    }
}
