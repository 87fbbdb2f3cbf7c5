namespace Kiln.IO;

/// <summary>
/// Encodes the TensorBoard messages Kiln writes (field numbers from TensorBoard's
/// <c>event.proto</c>, <c>summary.proto</c>, <c>histogram.proto</c> and <c>tensor.proto</c>):
/// an <c>Event</c> holds wall_time (1, double), step (2, int64) and one of file_version (3),
/// graph_def (4, bytes of a GraphDef) or summary (5); a <c>Summary</c> holds repeated Value (1),
/// each with tag (1), metadata (9) and one of simple_value (2, float), image (4), histo (5) or
/// tensor (8). Scalars, histograms and images are written in the legacy forms PyTorch writes,
/// which TensorBoard converts on load; text goes to the text plugin as a string tensor.
/// </summary>
internal static class EventEncoder
{
    /// <summary>The version every TensorBoard event file starts with.</summary>
    public const string FileVersion = "brain.Event:2";

    private const int DataTypeString = 7; // DT_STRING in types.proto

    /// <summary>The first event of a file: wall time and <see cref="FileVersion"/>.</summary>
    public static byte[] FileVersionEvent(double wallTime)
    {
        var e = EventHeader(wallTime, 0);
        e.WriteString(3, FileVersion);
        return e.ToArray();
    }

    /// <summary>An event holding a serialized GraphDef for the Graphs tab.</summary>
    public static byte[] GraphEvent(double wallTime, long step, ReadOnlySpan<byte> graphDef)
    {
        var e = EventHeader(wallTime, step);
        e.WriteBytes(4, graphDef);
        return e.ToArray();
    }

    /// <summary>An event holding a Summary with the one value <paramref name="value"/> (a Summary.Value message).</summary>
    public static byte[] SummaryEvent(double wallTime, long step, ProtoWriter value)
    {
        var summary = new ProtoWriter(value.Length + 8);
        summary.WriteMessage(1, value);
        var e = EventHeader(wallTime, step);
        e.WriteMessage(5, summary);
        return e.ToArray();
    }

    /// <summary>A Summary.Value with <c>simple_value</c>, which TensorBoard shows in the Scalars tab.</summary>
    public static ProtoWriter ScalarValue(string tag, float value)
    {
        var v = new ProtoWriter();
        v.WriteString(1, tag);
        v.WriteFloat(2, value);
        return v;
    }

    /// <summary>A Summary.Value with a HistogramProto (<c>histo</c>), for the Histograms and Distributions tabs.</summary>
    public static ProtoWriter HistogramValue(string tag, HistogramSummary histogram)
    {
        var h = new ProtoWriter(32 + 16 * histogram.Buckets.Length);
        // Every field is written even when 0: readers of the legacy form expect all five statistics.
        h.WriteDouble(1, histogram.Min);
        h.WriteDouble(2, histogram.Max);
        h.WriteDouble(3, histogram.Num);
        h.WriteDouble(4, histogram.Sum);
        h.WriteDouble(5, histogram.SumSquares);
        h.WritePackedDoubles(6, histogram.BucketLimits);
        h.WritePackedDoubles(7, histogram.Buckets);
        var v = new ProtoWriter(h.Length + tag.Length + 8);
        v.WriteString(1, tag);
        v.WriteMessage(5, h);
        return v;
    }

    /// <summary>A Summary.Value with a Summary.Image (<c>image</c>): size, colorspace (1 gray, 3 RGB, 4 RGBA) and the PNG bytes.</summary>
    public static ProtoWriter ImageValue(string tag, int height, int width, int colorspace, byte[] png)
    {
        var image = new ProtoWriter(png.Length + 24);
        image.WriteInt64(1, height);
        image.WriteInt64(2, width);
        image.WriteInt64(3, colorspace);
        image.WriteBytes(4, png);
        var v = new ProtoWriter(image.Length + tag.Length + 8);
        v.WriteString(1, tag);
        v.WriteMessage(4, image);
        return v;
    }

    /// <summary>
    /// A Summary.Value for the text plugin: metadata with plugin_name "text" (its content, a
    /// TextPluginData of version 0, encodes to no bytes) and a scalar DT_STRING tensor holding the
    /// UTF-8 text, which TensorBoard renders as Markdown.
    /// </summary>
    public static ProtoWriter TextValue(string tag, string text)
    {
        var tensor = new ProtoWriter(text.Length + 16);
        tensor.WriteInt64(1, DataTypeString);
        tensor.WriteMessage(2, new ProtoWriter()); // a TensorShapeProto with no dims: a scalar
        tensor.WriteString(8, text);
        var pluginData = new ProtoWriter();
        pluginData.WriteString(1, "text");
        var metadata = new ProtoWriter();
        metadata.WriteMessage(1, pluginData);
        var v = new ProtoWriter(tensor.Length + tag.Length + 24);
        v.WriteString(1, tag);
        v.WriteMessage(8, tensor);
        v.WriteMessage(9, metadata);
        return v;
    }

    private static ProtoWriter EventHeader(double wallTime, long step)
    {
        var e = new ProtoWriter();
        e.WriteDouble(1, wallTime);
        if (step != 0) e.WriteInt64(2, step);
        return e;
    }
}
