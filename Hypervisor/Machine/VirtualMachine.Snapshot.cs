using System.Security.Cryptography;
using System.Text;
using Hypervisor.Memory;

namespace Hypervisor.Machine;

/// <summary>A snapshot that cannot be restored into this VM (another image, a corrupt or foreign file).</summary>
public sealed class SnapshotException(string message) : Exception(message);

public sealed partial class VirtualMachine
{
    private const string SnapshotMagic = "HVSNAP01";

    /// <summary>
    /// The VM's whole state as bytes: hart (registers, pc, privilege, CSRs, counters, PMP,
    /// reservation), every RAM page the guest touched, every device's registers and the virtual
    /// clock. Nothing lives in statics or thread-locals, so restoring these bytes into a VM built
    /// from the same image and configuration — in this process or another — continues the guest
    /// exactly where it was (DESIGN.md §4: restart from a snapshot, later live migration).
    /// </summary>
    /// <remarks>
    /// Events that actors scheduled from outside (device traffic, console input at a virtual time)
    /// are not part of the VM; their owners publish them again. The timer is, through the CLINT.
    /// Take a snapshot between slices, not while the VM runs.
    /// </remarks>
    public byte[] SaveSnapshot()
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Encoding.ASCII.GetBytes(SnapshotMagic));
            w.Write(ImageFingerprint());
            w.Write(Config.MemorySize);
            w.Write((int)VmState);
            w.Write(ExitCode.HasValue);
            w.Write(ExitCode ?? 0);
            State.Save(w);

            int[] pages = [.. Ram.AllocatedChunks()];
            w.Write(pages.Length);
            byte[] buffer = new byte[GuestRam.ChunkSize];
            foreach (int page in pages)
            {
                Ram.ReadBytes((uint)page * GuestRam.ChunkSize, buffer);
                w.Write(page);
                w.Write(buffer);
            }

            ISnapshotState[] devices = SnapshotDevices();
            w.Write(devices.Length);
            foreach (ISnapshotState device in devices)
            {
                using var part = new MemoryStream();
                using (var pw = new BinaryWriter(part, Encoding.UTF8, leaveOpen: true))
                {
                    device.Save(pw);
                }
                w.Write(((IMmioDevice)device).Name);
                w.Write((int)part.Length);
                w.Write(part.GetBuffer(), 0, (int)part.Length);
            }
        }
        return stream.ToArray();
    }

    /// <summary>Replaces this VM's state with a snapshot taken by <see cref="SaveSnapshot"/> from a VM of the same image and memory size.</summary>
    public void RestoreSnapshot(byte[] snapshot)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(snapshot), Encoding.UTF8);
            if (Encoding.ASCII.GetString(r.ReadBytes(SnapshotMagic.Length)) != SnapshotMagic)
            {
                throw new SnapshotException("not a VM snapshot (bad magic)");
            }
            if (!r.ReadBytes(32).AsSpan().SequenceEqual(ImageFingerprint()))
            {
                throw new SnapshotException($"the snapshot is of another guest image than {_image.Path}");
            }
            if (r.ReadUInt32() != Config.MemorySize)
            {
                throw new SnapshotException("the snapshot is of a VM with another memory size");
            }
            var vmState = (VmState)r.ReadInt32();
            bool hasExit = r.ReadBoolean();
            int exit = r.ReadInt32();
            State.Restore(r);

            Ram.Clear();
            int pages = r.ReadInt32();
            for (int i = 0; i < pages; i++)
            {
                int page = r.ReadInt32();
                if (!Ram.WriteBytes((uint)page * GuestRam.ChunkSize, r.ReadBytes(GuestRam.ChunkSize)))
                {
                    throw new SnapshotException("the snapshot's memory does not fit in this VM's quota");
                }
            }

            Events.Clear();
            var devices = SnapshotDevices().ToDictionary(d => ((IMmioDevice)d).Name);
            int count = r.ReadInt32();
            for (int i = 0; i < count; i++)
            {
                string name = r.ReadString();
                byte[] part = r.ReadBytes(r.ReadInt32());
                if (!devices.TryGetValue(name, out ISnapshotState? device))
                {
                    throw new SnapshotException($"the snapshot has a device this VM lacks: {name}");
                }
                using var pr = new BinaryReader(new MemoryStream(part), Encoding.UTF8);
                device.Restore(pr);
            }

            Engine.FlushCode();
            Bus.ClearCodePages();
            Hart.Resynchronize();
            VmState = vmState;
            ExitCode = hasExit ? exit : null;
        }
        catch (EndOfStreamException)
        {
            throw new SnapshotException("the snapshot is truncated");
        }
    }

    private ISnapshotState[] SnapshotDevices()
    {
        var list = new List<ISnapshotState>();
        foreach ((_, IMmioDevice device) in Bus.Devices)
        {
            if (device is ISnapshotState s)
            {
                list.Add(s);
            }
        }
        return [.. list];
    }

    /// <summary>SHA-256 over the image's entry and segments: a snapshot only restores into a VM of the same image.</summary>
    private byte[] ImageFingerprint()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(BitConverter.GetBytes(_image.Entry));
        foreach (Loading.LoadSegment seg in _image.Segments)
        {
            hash.AppendData(BitConverter.GetBytes(seg.PhysicalAddress));
            hash.AppendData(BitConverter.GetBytes(seg.MemorySize));
            hash.AppendData(seg.Data);
        }
        return hash.GetHashAndReset();
    }
}
