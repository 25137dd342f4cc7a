using System.Runtime.InteropServices;

namespace Hypervisor.Actors.Vm;

/// <summary>
/// CPU time of the calling thread: what a slice really cost the host, unlike its wall time, which
/// also counts the time the OS gave the core to other processes. Linux and Windows; elsewhere
/// (or if the call fails) <see cref="Seconds"/> is NaN and callers fall back to wall time.
/// </summary>
internal static partial class ThreadCpuClock
{
    private const int ClockThreadCpuTimeId = 3; // CLOCK_THREAD_CPUTIME_ID

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec time);

    [LibraryImport("kernel32.dll")]
    private static partial IntPtr GetCurrentThread();

    [LibraryImport("kernel32.dll")]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool GetThreadTimes(IntPtr thread, out long creation, out long exit, out long kernel, out long user);

    /// <summary>The calling thread's CPU time in seconds, or NaN when the platform cannot tell.</summary>
    public static double Seconds()
    {
        try
        {
            if (OperatingSystem.IsLinux())
            {
                return ClockGetTime(ClockThreadCpuTimeId, out Timespec t) == 0 ? t.Seconds + t.Nanoseconds * 1e-9 : double.NaN;
            }
            if (OperatingSystem.IsWindows())
            {
                return GetThreadTimes(GetCurrentThread(), out _, out _, out long kernel, out long user) ? (kernel + user) * 1e-7 : double.NaN;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
        return double.NaN;
    }
}
