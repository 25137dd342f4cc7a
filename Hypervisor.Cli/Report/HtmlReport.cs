using System.Globalization;
using System.Net;
using System.Text;

namespace Hypervisor.Cli.Report;

/// <summary>
/// Turns a trace file into one self-contained HTML page (no network: inline CSS and SVG, one small
/// inline script that only counts what was drawn): the timeline of host threads and VMs, each VM's
/// share of the host over time, the interrupt-latency histogram and a table per VM.
/// </summary>
public static class HtmlReport
{
    private const double PlotWidth = 1100;
    private const double LabelWidth = 170;
    private const int ShareBins = 120;
    private const int ShareSeries = 10;
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>A VM as the report sees it.</summary>
    private sealed class VmRow(int tid, string name)
    {
        public readonly int Tid = tid;
        public readonly string Name = name;
        public readonly List<TraceEvent> Events = [];
        public readonly List<TraceEvent> Slices = [];
        public TraceEvent? Lifetime;
        public double Cpu;
        public string Color = "#888";
    }

    public static string Render(TraceFile trace, string title)
    {
        IReadOnlyList<TraceEvent> events = trace.Events;
        TraceEvent? fleet = events.FirstOrDefault(e => e.Pid == TraceFile.FleetPid && e.Name == "fleet.run");
        var vms = new SortedDictionary<int, VmRow>();
        foreach (((int pid, int tid), string name) in trace.ThreadNames)
        {
            if (pid == TraceFile.VmPid)
            {
                vms[tid] = new VmRow(tid, name);
            }
        }
        var byName = new Dictionary<string, VmRow>(StringComparer.Ordinal);
        foreach (TraceEvent e in events.Where(e => e.Pid == TraceFile.VmPid))
        {
            if (!vms.TryGetValue(e.Tid, out VmRow? row))
            {
                row = vms[e.Tid] = new VmRow(e.Tid, e.Arg("vm.name") ?? $"vm {e.Tid}");
            }
            if (e.Name == "vm")
            {
                row.Lifetime = e;
            }
            else if (e.Arg("span") == "vm.slice")
            {
                row.Slices.Add(e);
                row.Cpu += e.Duration;
            }
            else
            {
                row.Events.Add(e);
            }
        }
        List<VmRow> vmList = [.. vms.Values];
        for (int i = 0; i < vmList.Count; i++)
        {
            vmList[i].Color = Color(i);
            byName[vmList[i].Name] = vmList[i];
        }
        List<TraceEvent> hostSlices = events.Where(e => e.Pid == TraceFile.HostPid).ToList();
        List<int> threads = hostSlices.Select(e => e.Tid).Distinct().ToList();
        int parallelism = fleet is not null && fleet.LongArg("fleet.host_parallelism") > 0 ? (int)fleet.LongArg("fleet.host_parallelism") : Math.Max(1, threads.Count);
        double t0 = events.Count == 0 ? 0 : events.Where(e => e.Pid != TraceFile.FleetPid).Select(e => e.Start).DefaultIfEmpty(0).Min();
        double t1 = events.Count == 0 ? 1 : events.Where(e => e.Pid != TraceFile.FleetPid).Select(e => e.End).DefaultIfEmpty(1).Max();
        if (t1 <= t0)
        {
            t1 = t0 + 1;
        }
        long slicesTraced = vmList.Sum(v => v.Slices.Count);
        long slicesRun = vmList.Sum(v => v.Lifetime?.LongArg("vm.slices") ?? v.Slices.Count);

        var html = new StringBuilder(1 << 16);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.Append("<title>").Append(Esc(title)).Append("</title>\n<style>\n").Append(Css).Append("</style></head>\n<body>\n");
        html.Append("<h1>").Append(Esc(title)).Append("</h1>\n<p class=\"summary\">");
        html.Append(C, $"{vmList.Count} VMs on {parallelism} host slots ({threads.Count} host threads seen), {Ms(t1 - t0)} of host time; ");
        html.Append(C, $"{slicesTraced:N0} slices traced");
        if (slicesRun > slicesTraced)
        {
            html.Append(C, $" of {slicesRun:N0} run (sampled: the timeline shows only the traced slices)");
        }
        if (fleet?.Arg("fleet.scenario") is { } scenario)
        {
            html.Append("; scenario ").Append(Esc(scenario));
        }
        html.Append(".</p>\n");

        html.Append("<h2>Timeline</h2>\n<p class=\"note\">Top: host worker threads, each slice coloured by the VM it ran. Below: one track per VM — its lifetime (light), its slices, and its lifecycle (create, boot, power-off, fault).</p>\n");
        Timeline(html, threads, trace, hostSlices, vmList, byName, t0, t1);

        html.Append("<h2>Share of the host over time</h2>\n<p class=\"note\">Each VM's part of the host slots in each of ").Append(ShareBins.ToString(C))
            .Append(" time bins (100% = every slot busy).</p>\n");
        Shares(html, vmList, parallelism, t0, t1);

        html.Append("<h2>Interrupt latency</h2>\n");
        Latency(html, vmList);

        html.Append("<h2>VMs</h2>\n");
        Table(html, vmList, parallelism, t1 - t0);

        html.Append("<script>\n// Counts the VM tracks the browser actually laid out (tests read it from the DOM).\n")
            .Append("(function(){var n=0;document.querySelectorAll('g.vm-track').forEach(function(g){var b=g.getBBox();if(b.width>0&&b.height>0)n++;});")
            .Append("document.body.setAttribute('data-rendered-vm-tracks',String(n));})();\n</script>\n");
        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static void Timeline(StringBuilder html, List<int> threads, TraceFile trace, List<TraceEvent> hostSlices, List<VmRow> vms,
        Dictionary<string, VmRow> byName, double t0, double t1)
    {
        const double hostRow = 18;
        double vmRow = Math.Clamp(420.0 / Math.Max(1, vms.Count), 6, 18);
        double axis = 24;
        double gap = 16;
        double height = axis + threads.Count * hostRow + gap + vms.Count * vmRow + 8;
        double width = LabelWidth + PlotWidth + 10;
        double Scale(double t) => LabelWidth + (t - t0) / (t1 - t0) * PlotWidth;

        html.Append(C, $"<svg id=\"timeline\" class=\"chart\" width=\"{width:F0}\" height=\"{height:F0}\" viewBox=\"0 0 {width:F0} {height:F0}\" data-vm-tracks=\"{vms.Count}\" data-host-tracks=\"{threads.Count}\" xmlns=\"http://www.w3.org/2000/svg\">\n");
        Axis(html, t0, t1, axis - 6, height);
        double y = axis;
        foreach (int thread in threads)
        {
            string name = trace.ThreadNames.TryGetValue((TraceFile.HostPid, thread), out string? n) ? n : $"thread {thread}";
            html.Append(C, $"<g class=\"host-track\" data-thread=\"{thread}\"><text class=\"label\" x=\"4\" y=\"{y + hostRow - 5:F1}\">{Esc(Short(name, 26))}</text>");
            html.Append(C, $"<rect class=\"lane\" x=\"{LabelWidth:F0}\" y=\"{y:F1}\" width=\"{PlotWidth:F0}\" height=\"{hostRow - 2:F1}\"/>");
            Bars(html, hostSlices.Where(e => e.Tid == thread), Scale, y, hostRow - 2,
                e => byName.TryGetValue(e.Name, out VmRow? vm) ? vm.Color : "#888", e => e.Name);
            html.Append("</g>\n");
            y += hostRow;
        }
        y += gap;
        int labelEvery = vmRow >= 10 ? 1 : (int)Math.Ceiling(10 / vmRow); // thin rows: a name every few rows
        for (int row = 0; row < vms.Count; row++)
        {
            VmRow vm = vms[row];
            html.Append(C, $"<g class=\"vm-track\" data-vm=\"{Esc(vm.Name)}\">");
            if (row % labelEvery == 0)
            {
                html.Append(C, $"<text class=\"label\" x=\"4\" y=\"{y + vmRow - 1:F1}\" font-size=\"{Math.Min(11, Math.Max(vmRow, 9)):F0}\">{Esc(Short(vm.Name, 26))}</text>");
            }
            if (vm.Lifetime is { } life)
            {
                html.Append(C, $"<rect class=\"life\" x=\"{Scale(life.Start):F2}\" y=\"{y:F1}\" width=\"{Math.Max(1, Scale(life.End) - Scale(life.Start)):F2}\" height=\"{vmRow - 1:F1}\" fill=\"{vm.Color}\"><title>{Esc(vm.Name)}: {Esc(life.Arg("vm.end_state") ?? "")} after {life.LongArg("vm.instret"):N0} instructions</title></rect>");
            }
            else
            {
                html.Append(C, $"<rect class=\"lane\" x=\"{LabelWidth:F0}\" y=\"{y:F1}\" width=\"{PlotWidth:F0}\" height=\"{vmRow - 1:F1}\"/>");
            }
            Bars(html, vm.Slices, Scale, y, vmRow - 1, _ => vm.Color, e => vm.Name + ": " + e.Name);
            foreach (TraceEvent e in vm.Events)
            {
                string cls = e.Name switch
                {
                    "vm.create" => "create",
                    "vm.boot" => "boot",
                    "vm.power_off" => "poweroff",
                    "vm.fault" => "fault",
                    _ => "stop",
                };
                double x0 = Scale(e.Start);
                html.Append(C, $"<rect class=\"mark {cls}\" x=\"{x0:F2}\" y=\"{y:F1}\" width=\"{Math.Max(2, Scale(e.End) - x0):F2}\" height=\"{Math.Max(2, vmRow / 3):F1}\"><title>{Esc(vm.Name)}: {Esc(e.Name)} {Ms(e.Duration)}</title></rect>");
            }
            html.Append("</g>\n");
            y += vmRow;
        }
        html.Append("</svg>\n<p class=\"legend\"><span class=\"key create\"></span>create <span class=\"key boot\"></span>boot (to the end of the first slice) <span class=\"key poweroff\"></span>power-off <span class=\"key fault\"></span>fault <span class=\"key stop\"></span>stop</p>\n");
    }

    /// <summary>Rectangles for events on one row, merging neighbours of the same colour less than half a pixel apart.</summary>
    private static void Bars(StringBuilder html, IEnumerable<TraceEvent> events, Func<double, double> scale, double y, double h,
        Func<TraceEvent, string> color, Func<TraceEvent, string> label)
    {
        double x0 = 0, x1 = -1, busy = 0;
        string? fill = null, text = null;
        int count = 0;
        void Flush()
        {
            if (fill is null)
            {
                return;
            }
            html.Append(C, $"<rect class=\"slice\" x=\"{x0:F2}\" y=\"{y:F1}\" width=\"{Math.Max(0.6, x1 - x0):F2}\" height=\"{h:F1}\" fill=\"{fill}\"><title>{Esc(text!)}{(count > 1 ? $" ({count} slices)" : "")}, {Ms(busy)}</title></rect>");
        }
        foreach (TraceEvent e in events.OrderBy(e => e.Start))
        {
            double a = scale(e.Start), b = scale(e.End);
            string f = color(e);
            if (f == fill && a - x1 < 0.5)
            {
                x1 = Math.Max(x1, b);
                busy += e.Duration;
                count++;
                continue;
            }
            Flush();
            (x0, x1, fill, text, busy, count) = (a, b, f, label(e), e.Duration, 1);
        }
        Flush();
    }

    private static void Axis(StringBuilder html, double t0, double t1, double y, double height)
    {
        double span = t1 - t0;
        double step = NiceStep(span / 8);
        for (double t = 0; t <= span + 1e-9; t += step)
        {
            double x = LabelWidth + t / span * PlotWidth;
            html.Append(C, $"<line class=\"grid\" x1=\"{x:F1}\" y1=\"{y + 2:F1}\" x2=\"{x:F1}\" y2=\"{height:F1}\"/><text class=\"tick\" x=\"{x:F1}\" y=\"{y:F1}\">{Ms(t)}</text>\n");
        }
    }

    private static double NiceStep(double raw)
    {
        double p = Math.Pow(10, Math.Floor(Math.Log10(Math.Max(raw, 1e-9))));
        foreach (double m in new[] { 1, 2, 5, 10 })
        {
            if (raw <= m * p)
            {
                return m * p;
            }
        }
        return 10 * p;
    }

    private static void Shares(StringBuilder html, List<VmRow> vms, int parallelism, double t0, double t1)
    {
        const double h = 220;
        double width = LabelWidth + PlotWidth + 10;
        double bin = (t1 - t0) / ShareBins;
        List<VmRow> top = vms.OrderByDescending(v => v.Cpu).Take(vms.Count > ShareSeries ? ShareSeries - 1 : ShareSeries).ToList();
        bool others = vms.Count > top.Count;
        var series = new List<(string Name, string Color, double[] Share)>();
        double[] rest = new double[ShareBins];
        foreach (VmRow vm in vms)
        {
            double[] share = new double[ShareBins];
            foreach (TraceEvent s in vm.Slices)
            {
                int a = Math.Clamp((int)((s.Start - t0) / bin), 0, ShareBins - 1);
                int b = Math.Clamp((int)((s.End - t0) / bin), 0, ShareBins - 1);
                for (int i = a; i <= b; i++)
                {
                    double lo = t0 + i * bin, hi = lo + bin;
                    double overlap = Math.Min(hi, s.End) - Math.Max(lo, s.Start);
                    if (overlap > 0)
                    {
                        share[i] += overlap / (bin * parallelism);
                    }
                }
            }
            if (top.Contains(vm))
            {
                series.Add((vm.Name, vm.Color, share));
            }
            else
            {
                for (int i = 0; i < ShareBins; i++)
                {
                    rest[i] += share[i];
                }
            }
        }
        series.Sort((a, b) => vms.FindIndex(v => v.Name == a.Name).CompareTo(vms.FindIndex(v => v.Name == b.Name)));
        if (others)
        {
            series.Add(($"{vms.Count - top.Count} others", "#bbbbbb", rest));
        }
        html.Append(C, $"<svg id=\"shares\" class=\"chart\" width=\"{width:F0}\" height=\"{h + 30:F0}\" viewBox=\"0 0 {width:F0} {h + 30:F0}\" xmlns=\"http://www.w3.org/2000/svg\">\n");
        foreach (double pct in new[] { 0, 0.25, 0.5, 0.75, 1.0 })
        {
            double yy = 10 + h - pct * h;
            html.Append(C, $"<line class=\"grid\" x1=\"{LabelWidth:F0}\" y1=\"{yy:F1}\" x2=\"{LabelWidth + PlotWidth:F0}\" y2=\"{yy:F1}\"/><text class=\"tick\" text-anchor=\"end\" x=\"{LabelWidth - 6:F0}\" y=\"{yy + 4:F1}\">{pct:P0}</text>\n");
        }
        double[] baseLine = new double[ShareBins];
        foreach ((string name, string color, double[] share) in series)
        {
            var points = new StringBuilder();
            for (int i = 0; i < ShareBins; i++)
            {
                double x = LabelWidth + (i + 0.5) * PlotWidth / ShareBins;
                points.Append(C, $"{x:F1},{10 + h - Math.Min(1, baseLine[i] + share[i]) * h:F1} ");
            }
            for (int i = ShareBins - 1; i >= 0; i--)
            {
                double x = LabelWidth + (i + 0.5) * PlotWidth / ShareBins;
                points.Append(C, $"{x:F1},{10 + h - Math.Min(1, baseLine[i]) * h:F1} ");
                baseLine[i] += share[i];
            }
            double mean = share.Average();
            html.Append(C, $"<polygon class=\"share\" data-vm=\"{Esc(name)}\" points=\"{points.ToString().TrimEnd()}\" fill=\"{color}\"><title>{Esc(name)}: {mean:P1} of the host on average</title></polygon>\n");
        }
        html.Append(C, $"<text class=\"tick\" x=\"{LabelWidth:F0}\" y=\"{h + 26:F0}\">0</text><text class=\"tick\" text-anchor=\"end\" x=\"{LabelWidth + PlotWidth:F0}\" y=\"{h + 26:F0}\">{Ms(t1 - t0)}</text>\n");
        html.Append("</svg>\n<p class=\"legend\">");
        foreach ((string name, string color, double[] share) in series)
        {
            html.Append(C, $"<span class=\"key\" style=\"background:{color}\"></span>{Esc(name)} ({share.Average():P1}) ");
        }
        html.Append("</p>\n");
    }

    private static void Latency(StringBuilder html, List<VmRow> vms)
    {
        long[] bounds = [];
        long[] virt = [], host = [];
        long raised = 0, delivered = 0, coalesced = 0, deferred = 0, lost = 0;
        long maxVirtual = 0, maxHost = 0;
        foreach (VmRow vm in vms)
        {
            if (vm.Lifetime is not { } life || life.ArrayArg("irq.latency.bounds_ns") is not { Length: > 0 } b)
            {
                continue;
            }
            bounds = b;
            virt = Add(virt, life.ArrayArg("irq.latency.virtual.counts"));
            host = Add(host, life.ArrayArg("irq.latency.host.counts"));
            raised += life.LongArg("irq.raised");
            delivered += life.LongArg("irq.delivered");
            coalesced += life.LongArg("irq.coalesced");
            deferred += life.LongArg("irq.deferred");
            lost += life.LongArg("irq.lost");
            maxVirtual = Math.Max(maxVirtual, life.LongArg("irq.latency.virtual.max_ns"));
            maxHost = Math.Max(maxHost, life.LongArg("irq.latency.host.max_ns"));
        }
        if (bounds.Length == 0 || (virt.Sum() == 0 && host.Sum() == 0))
        {
            long taken = vms.Sum(v => v.Lifetime?.LongArg("irq.taken") ?? 0);
            html.Append(C, $"<p class=\"note\" id=\"no-latency\">No interrupt-latency data in this trace: none of its VMs had interrupt-generator events (the VMs took {taken:N0} interrupts in all, timer and device).</p>\n");
            return;
        }
        html.Append(C, $"<p class=\"note\">From raise to the guest handler's first instruction, all VMs: {raised:N0} raised, {delivered:N0} delivered, {coalesced:N0} coalesced, {deferred:N0} deferred, {lost:N0} lost; max {Ns(maxVirtual)} virtual, {Ns(maxHost)} host.</p>\n");
        int first = int.MaxValue, last = -1;
        for (int i = 0; i < Math.Max(virt.Length, host.Length); i++)
        {
            if (At(virt, i) + At(host, i) > 0)
            {
                first = Math.Min(first, i);
                last = i;
            }
        }
        int n = last - first + 1;
        const double h = 200;
        double width = LabelWidth + PlotWidth + 10;
        double barGroup = PlotWidth / n;
        double peak = Math.Max(1, Enumerable.Range(first, n).Max(i => Math.Max(At(virt, i), At(host, i))));
        int labelEvery = (int)Math.Max(1, Math.Ceiling(56 / barGroup)); // labels about 56 px apart at most
        html.Append(C, $"<svg id=\"latency\" class=\"chart\" width=\"{width:F0}\" height=\"{h + 50:F0}\" viewBox=\"0 0 {width:F0} {h + 50:F0}\" xmlns=\"http://www.w3.org/2000/svg\">\n");
        for (int k = 0; k < n; k++)
        {
            int i = first + k;
            double x = LabelWidth + k * barGroup;
            foreach ((long[] counts, string cls, double offset) in new[] { (virt, "virtual", 0.1), (host, "host", 0.5) })
            {
                long c = At(counts, i);
                double bh = c / peak * h;
                html.Append(C, $"<rect class=\"bar {cls}\" x=\"{x + offset * barGroup:F1}\" y=\"{10 + h - bh:F1}\" width=\"{barGroup * 0.38:F1}\" height=\"{bh:F1}\"><title>{cls} latency {BucketLabel(bounds, i)}: {c:N0}</title></rect>");
            }
            if (k % labelEvery == 0)
            {
                html.Append(C, $"<text class=\"tick\" text-anchor=\"middle\" x=\"{x + barGroup / 2:F1}\" y=\"{h + 28:F0}\">{Esc(BucketLabel(bounds, i))}</text>\n");
            }
        }
        html.Append(C, $"<text class=\"tick\" text-anchor=\"end\" x=\"{LabelWidth - 6:F0}\" y=\"{14:F0}\">{peak:N0}</text>");
        html.Append("</svg>\n<p class=\"legend\"><span class=\"key virtual\"></span>virtual time <span class=\"key host\"></span>host time (count of interrupts per latency bucket)</p>\n");
    }

    private static long At(long[] a, int i) => i < a.Length ? a[i] : 0;

    private static long[] Add(long[] a, long[] b)
    {
        long[] r = new long[Math.Max(a.Length, b.Length)];
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = At(a, i) + At(b, i);
        }
        return r;
    }

    private static string BucketLabel(long[] bounds, int i) => i < bounds.Length ? "≤" + Ns(bounds[i]) : ">" + Ns(bounds[^1]);

    private static void Table(StringBuilder html, List<VmRow> vms, int parallelism, double span)
    {
        html.Append("<table><thead><tr><th>VM</th><th>engine</th><th>end</th><th>exit</th><th>instructions</th><th>slices</th><th>CPU (traced)</th><th>share</th><th>interrupts</th></tr></thead><tbody>\n");
        foreach (VmRow vm in vms)
        {
            TraceEvent? l = vm.Lifetime;
            html.Append(C, $"<tr><td><span class=\"key\" style=\"background:{vm.Color}\"></span>{Esc(vm.Name)}</td><td>{Esc(l?.Arg("engine") ?? "")}</td><td>{Esc(l?.Arg("vm.end_state") ?? "running")}</td>");
            html.Append(C, $"<td>{Esc(l?.Arg("vm.exit_code") ?? "")}</td><td class=\"n\">{l?.LongArg("vm.instret") ?? 0:N0}</td><td class=\"n\">{l?.LongArg("vm.slices") ?? vm.Slices.Count:N0}</td>");
            html.Append(C, $"<td class=\"n\">{Ms(vm.Cpu)}</td><td class=\"n\">{vm.Cpu / (span * parallelism):P1}</td><td class=\"n\">{l?.LongArg("irq.taken") ?? 0:N0}</td></tr>\n");
        }
        html.Append("</tbody></table>\n");
    }

    private static string Color(int i)
    {
        double hue = (215 + i * 137.508) % 360;
        if (hue < 20 || hue > 345)
        {
            hue = (hue + 40) % 360; // red stays the colour of faults
        }
        return string.Create(C, $"hsl({hue:F0},62%,{(i % 2 == 0 ? 52 : 42)}%)");
    }

    private static string Ms(double microseconds) => microseconds >= 1e6
        ? string.Create(C, $"{microseconds / 1e6:0.###} s")
        : microseconds >= 1e3 ? string.Create(C, $"{microseconds / 1e3:0.##} ms") : string.Create(C, $"{microseconds:0.#} µs");

    private static string Ns(long ns) => ns >= 1_000_000_000 ? string.Create(C, $"{ns / 1e9:0.##} s")
        : ns >= 1_000_000 ? string.Create(C, $"{ns / 1e6:0.##} ms")
        : ns >= 1_000 ? string.Create(C, $"{ns / 1e3:0.##} µs") : string.Create(C, $"{ns} ns");

    private static string Short(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    private static string Esc(string s) => WebUtility.HtmlEncode(s);

    private const string Css = """
        body { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 20px 28px; color: #222; background: #fff; }
        h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 22px 0 6px; }
        .summary { color: #444; margin: 0 0 8px; } .note { color: #555; margin: 2px 0 8px; max-width: 1100px; }
        svg.chart { display: block; background: #fcfcfc; border: 1px solid #e4e4e4; }
        .label { font-size: 11px; fill: #333; } .tick { font-size: 10px; fill: #666; }
        .grid { stroke: #ececec; stroke-width: 1; } .lane { fill: #f3f3f3; }
        .life { opacity: 0.16; } .slice { stroke: none; }
        .mark.create { fill: #6a5acd; } .mark.boot { fill: #f0a30a; } .mark.poweroff { fill: #2e8b57; } .mark.fault { fill: #d11; } .mark.stop { fill: #555; }
        .bar.virtual, .key.virtual { fill: #3b7dd8; background: #3b7dd8; } .bar.host, .key.host { fill: #e07b39; background: #e07b39; }
        .legend { color: #444; margin: 4px 0 0; }
        .key { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; vertical-align: -1px; border-radius: 2px; }
        .key.create { background: #6a5acd; } .key.boot { background: #f0a30a; } .key.poweroff { background: #2e8b57; } .key.fault { background: #d11; } .key.stop { background: #555; }
        table { border-collapse: collapse; margin-top: 4px; } th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; }
        th { background: #f6f6f6; font-weight: 600; } td.n { text-align: right; font-variant-numeric: tabular-nums; }

        """;
}
