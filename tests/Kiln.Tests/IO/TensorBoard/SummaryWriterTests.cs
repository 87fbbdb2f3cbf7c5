using System.Text;
using System.Text.RegularExpressions;
using Kiln.IO;

namespace Kiln.Tests.IO.TensorBoard;

public sealed class SummaryWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-tensorboard-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Run(string name = "run") => Path.Combine(_dir, name);

    [Fact]
    public void SummaryWriter_names_the_file_as_tensorboard_does_and_writes_the_file_version_at_once()
    {
        double before = (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;
        using var writer = new SummaryWriter(Run());
        double after = (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;

        var name = Path.GetFileName(writer.FilePath);
        var match = Regex.Match(name, @"^events\.out\.tfevents\.(\d{10})\.(.+)\.(\d+)\.(\d+)$");
        Assert.True(match.Success, name);
        Assert.InRange(long.Parse(match.Groups[1].Value), (long)before, (long)after);
        Assert.Equal(System.Net.Dns.GetHostName(), match.Groups[2].Value);
        Assert.Equal(Environment.ProcessId.ToString(), match.Groups[3].Value);
        Assert.Equal(Path.GetFullPath(Run()), writer.LogDir);
        Assert.Equal(writer.FilePath, TestEventReader.SingleEventFile(Run()));

        // No Flush: the first record is on disk when the constructor returns.
        var first = Assert.Single(TestEventReader.ReadFile(writer.FilePath));
        Assert.Equal("brain.Event:2", first.FileVersion);
        Assert.Equal(0, first.Step);
        Assert.InRange(first.WallTime, before, after);
    }

    [Fact]
    public void SummaryWriter_appends_the_suffix_and_gives_each_writer_its_own_file()
    {
        using var a = new SummaryWriter(Run(), filenameSuffix: ".v2");
        using var b = new SummaryWriter(Run(), filenameSuffix: ".v2");
        Assert.EndsWith(".v2", a.FilePath);
        Assert.NotEqual(a.FilePath, b.FilePath);
        Assert.Equal(2, Directory.GetFiles(Run()).Length);
    }

    [Fact]
    public void AddScalar_writes_tag_value_step_and_wall_time_exactly()
    {
        string path;
        using (var writer = new SummaryWriter(Run()))
        {
            path = writer.FilePath;
            writer.AddScalar("train/loss", 0.25, step: 3, wallTime: 1234.5);
            writer.AddScalar("train/loss", double.NaN, step: -7, wallTime: 1235);
            writer.AddScalar("acc", 1e40, step: long.MaxValue, wallTime: 1236);
            writer.AddScalar("zero", 0, wallTime: 1237);
        }
        var events = TestEventReader.ReadFile(path);
        Assert.Equal(5, events.Count);
        Assert.Equal((1234.5, 3L), (events[1].WallTime, events[1].Step));
        var value = Assert.Single(events[1].Summary!);
        Assert.Equal("train/loss", value.Tag);
        Assert.Equal(0.25f, value.SimpleValue);
        Assert.Null(value.PluginName);
        Assert.Equal(-7, events[2].Step);
        Assert.True(float.IsNaN(events[2].Summary![0].SimpleValue!.Value));
        Assert.Equal((long.MaxValue, float.PositiveInfinity), (events[3].Step, events[3].Summary![0].SimpleValue!.Value));
        Assert.Equal((0L, 0f), (events[4].Step, events[4].Summary![0].SimpleValue!.Value));
    }

    [Fact]
    public void SummaryWriter_refuses_empty_tags_and_bad_arguments()
    {
        using var writer = new SummaryWriter(Run());
        Assert.Throws<ArgumentException>(() => writer.AddScalar("", 1));
        Assert.Throws<ArgumentException>(() => writer.AddScalar("  ", 1));
        Assert.Throws<ArgumentNullException>(() => writer.AddScalar(null!, 1));
        Assert.Throws<ArgumentException>(() => writer.AddText("", "x"));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.AddScalar("t", 1, wallTime: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SummaryWriter(Run(), flushSeconds: 0));
        Assert.Throws<ArgumentException>(() => new SummaryWriter(Run(), filenameSuffix: "a/b"));
        Assert.Throws<ArgumentException>(() => new SummaryWriter(""));
        var e = Assert.Throws<ArgumentException>(() => writer.AddScalars("loss", new Dictionary<string, double> { ["a/b"] = 1 }));
        Assert.Contains("a/b", e.Message);
    }

    [Fact]
    public void AddScalars_writes_each_key_to_its_own_run_under_the_main_tag()
    {
        using (var writer = new SummaryWriter(Run()))
        {
            writer.AddScalars("run/loss", new Dictionary<string, double> { ["train"] = 0.5, ["val"] = 0.75 }, step: 2, wallTime: 10);
            writer.AddScalars("run/loss", new Dictionary<string, double> { ["train"] = 0.25 }, step: 3, wallTime: 11);
        }
        Assert.Equal(["run_loss_train", "run_loss_val"], Directory.GetDirectories(Run()).Select(Path.GetFileName).Order());
        var train = TestEventReader.ReadFile(TestEventReader.SingleEventFile(Path.Combine(Run(), "run_loss_train")));
        Assert.Equal("brain.Event:2", train[0].FileVersion);
        Assert.Equal([(2L, "run/loss", 0.5f), (3L, "run/loss", 0.25f)],
            train.Skip(1).Select(e => (e.Step, e.Summary![0].Tag, e.Summary[0].SimpleValue!.Value)));
        var val = TestEventReader.ReadFile(TestEventReader.SingleEventFile(Path.Combine(Run(), "run_loss_val")));
        Assert.Equal((2L, "run/loss", 0.75f), (val[1].Step, val[1].Summary![0].Tag, val[1].Summary![0].SimpleValue!.Value));
        Assert.Single(TestEventReader.ReadFile(TestEventReader.SingleEventFile(Run())));
    }

    [Fact]
    public void AddText_writes_a_string_tensor_for_the_text_plugin()
    {
        string path;
        const string text = "**bold** ünïcode ✓";
        using (var writer = new SummaryWriter(Run()))
        {
            path = writer.FilePath;
            writer.AddText("notes", text, step: 4, wallTime: 99);
        }
        var value = Assert.Single(TestEventReader.ReadFile(path)[1].Summary!);
        Assert.Equal("notes", value.Tag);
        Assert.Equal("text", value.PluginName);
        Assert.Empty(value.PluginContent!);
        Assert.Equal(7, value.Tensor!.DType); // DT_STRING
        Assert.Equal([], value.Tensor.Shape!);
        Assert.Equal(text, Encoding.UTF8.GetString(Assert.Single(value.Tensor.StringValues)));
    }

    [Fact]
    public void Dispose_writes_every_queued_event_in_order()
    {
        var writer = new SummaryWriter(Run());
        for (int i = 0; i < 3000; i++) writer.AddScalar("x", i, step: i, wallTime: 1000 + i);
        writer.Dispose();
        writer.Dispose();

        var events = TestEventReader.ReadFile(writer.FilePath);
        Assert.Equal(3001, events.Count);
        Assert.Equal(Enumerable.Range(0, 3000).Select(i => ((long)i, (float)i)), events.Skip(1).Select(e => (e.Step, e.Summary![0].SimpleValue!.Value)));
        Assert.Throws<ObjectDisposedException>(() => writer.AddScalar("x", 1));
        Assert.Throws<ObjectDisposedException>(() => writer.Flush());
    }

    [Fact]
    public void Flush_puts_every_event_logged_so_far_in_the_file()
    {
        using var writer = new SummaryWriter(Run());
        writer.AddScalar("a", 1, step: 1);
        writer.AddText("b", "x", step: 2);
        writer.Flush();
        Assert.Equal(3, TestEventReader.ReadFile(writer.FilePath).Count);
    }

    [Fact]
    public void SummaryWriter_flushes_in_the_background_every_flush_interval()
    {
        using var writer = new SummaryWriter(Run(), flushSeconds: 0.05);
        writer.AddScalar("a", 1, step: 1);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        int count;
        while ((count = TestEventReader.ReadFile(writer.FilePath).Count) < 2 && DateTime.UtcNow < deadline) Thread.Sleep(10);
        Assert.Equal(2, count);
    }

    [Fact]
    public void SummaryWriter_takes_events_from_several_threads()
    {
        string path;
        using (var writer = new SummaryWriter(Run()))
        {
            path = writer.FilePath;
            Parallel.For(0, 4, t =>
            {
                for (int i = 0; i < 250; i++) writer.AddScalar($"t{t}", i, step: i);
            });
        }
        var events = TestEventReader.ReadFile(path).Skip(1).ToList();
        Assert.Equal(1000, events.Count);
        for (int t = 0; t < 4; t++)
            Assert.Equal(Enumerable.Range(0, 250).Select(i => (long)i), events.Where(e => e.Summary![0].Tag == $"t{t}").Select(e => e.Step));
    }

    [Fact]
    public void Test_reader_detects_a_corrupted_payload_or_length()
    {
        string path;
        using (var writer = new SummaryWriter(Run()))
        {
            path = writer.FilePath;
            writer.AddScalar("a", 1, step: 1);
        }
        var bytes = File.ReadAllBytes(path);
        var records = TestEventReader.ReadRecords(bytes);
        Assert.Equal(2, records.Count);
        int second = 16 + records[0].Length;

        var payloadFlipped = (byte[])bytes.Clone();
        payloadFlipped[second + 12 + 3] ^= 0x01;
        Assert.Contains("payload CRC mismatch", Assert.Throws<InvalidDataException>(() => TestEventReader.ReadRecords(payloadFlipped)).Message);

        var lengthFlipped = (byte[])bytes.Clone();
        lengthFlipped[second] ^= 0x01;
        Assert.Contains("length CRC mismatch", Assert.Throws<InvalidDataException>(() => TestEventReader.ReadRecords(lengthFlipped)).Message);

        var crcFlipped = (byte[])bytes.Clone();
        crcFlipped[^1] ^= 0x80;
        Assert.Throws<InvalidDataException>(() => TestEventReader.ReadRecords(crcFlipped));
    }

    [Fact]
    public void A_background_write_failure_is_thrown_by_the_next_call_and_not_again_by_dispose()
    {
        var stream = new FailingStream();
        var writer = new SummaryWriter(Run(), 120, "", _ => stream);
        Assert.Single(TestEventReader.DecodeAll(stream.ToArray()));
        stream.Fail = true;
        writer.AddScalar("a", 1);

        var e = Assert.Throws<IOException>(() => writer.Flush());
        Assert.Contains(writer.FilePath, e.Message);
        Assert.Contains("disk full", e.Message);
        Assert.IsType<IOException>(e.InnerException);
        Assert.Throws<IOException>(() => writer.AddScalar("a", 2));
        writer.Dispose();
        Assert.True(stream.Disposed);
    }

    [Fact]
    public void A_background_write_failure_no_call_reported_is_thrown_by_dispose()
    {
        var stream = new FailingStream();
        var writer = new SummaryWriter(Run(), 120, "", _ => stream);
        stream.Fail = true;
        writer.AddScalar("a", 1);
        var e = Assert.Throws<IOException>(writer.Dispose);
        Assert.Contains("disk full", e.Message);
        Assert.True(stream.Disposed);
    }

    private sealed class FailingStream : MemoryStream
    {
        public bool Fail { get; set; }
        public bool Disposed { get; private set; }

        // MemoryStream sends span writes of a derived type through this overload.
        public override void Write(byte[] buffer, int offset, int count)
        {
            if (Fail) throw new IOException("disk full");
            base.Write(buffer, offset, count);
        }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
