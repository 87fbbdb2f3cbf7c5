using Kiln.IO;

namespace Kiln.Tests.IO.TensorBoard;

public sealed class ImageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-tensorboard-image-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TbImage WriteAndRead(Action<SummaryWriter> add)
    {
        string path;
        using (var writer = new SummaryWriter(_dir))
        {
            path = writer.FilePath;
            add(writer);
        }
        var events = TestEventReader.ReadFile(path);
        return Assert.Single(events[1].Summary!).Image!;
    }

    [Fact]
    public void PngEncoder_output_decodes_to_the_same_pixels_for_every_channel_count()
    {
        var random = new Random(99);
        foreach (var (width, height, channels) in new[] { (1, 1, 1), (7, 5, 3), (13, 4, 4), (2, 9, 1) })
        {
            var pixels = new byte[width * height * channels];
            random.NextBytes(pixels);
            var png = PngEncoder.Encode(pixels, width, height, channels);
            var decoded = TestPngDecoder.Decode(png);
            Assert.Equal(["IHDR", "IDAT", "IEND"], decoded.Chunks);
            Assert.Equal((width, height, channels), (decoded.Width, decoded.Height, decoded.Channels));
            Assert.Equal(pixels, decoded.Pixels);
        }
    }

    [Fact]
    public void AddImage_writes_a_float_chw_image_as_rgb_png_with_rounded_clamped_pixels()
    {
        // 3 channels, 2 rows, 2 columns; channel planes R, G, B.
        float[] values =
        [
            0f, 0.5f, 1f, 2f,          // R
            -1f, float.NaN, 0.2f, 1f,  // G
            0.25f, 0.75f, 0.999f, 0f,  // B
        ];
        using var image = Tensor.From(values, 3, 2, 2);
        var img = WriteAndRead(w => w.AddImage("sample", image, step: 2));

        Assert.Equal((2L, 2L, 3L), (img.Height, img.Width, img.Colorspace));
        var png = TestPngDecoder.Decode(img.Png);
        Assert.Equal((2, 2, 3), (png.Width, png.Height, png.Channels));
        Assert.Equal(new byte[]
        {
            0, 0, 64,      128, 0, 191,
            255, 51, 255,  255, 255, 0,
        }, png.Pixels);
    }

    [Fact]
    public void AddImage_takes_uint8_hw_gray_and_hwc_rgba_images()
    {
        var gray = new byte[] { 0, 10, 20, 30, 40, 250 };
        using var hw = Tensor.From(gray, 2, 3);
        var g = WriteAndRead(w => w.AddImage("gray", hw, dataFormats: "HW"));
        Assert.Equal((2L, 3L, 1L), (g.Height, g.Width, g.Colorspace));
        Assert.Equal(gray, TestPngDecoder.Decode(g.Png).Pixels);

        var rgba = Enumerable.Range(0, 3 * 2 * 4).Select(i => (byte)(i * 10)).ToArray();
        using var hwc = Tensor.From(rgba, 3, 2, 4);
        var c = WriteAndRead(w => w.AddImage("rgba", hwc, dataFormats: "HWC"));
        Assert.Equal((3L, 2L, 4L), (c.Height, c.Width, c.Colorspace));
        var decoded = TestPngDecoder.Decode(c.Png);
        Assert.Equal(4, decoded.Channels);
        Assert.Equal(rgba, decoded.Pixels);
    }

    [Fact]
    public void AddImage_errors_name_the_shape_dtype_or_layout()
    {
        using var writer = new SummaryWriter(_dir);
        using var twoChannels = Tensor.Zeros([2, 5, 5]);
        var e = Assert.Throws<KilnShapeException>(() => writer.AddImage("x", twoChannels));
        Assert.Contains("[2, 5, 5]", e.Message);
        Assert.Contains("2 channels", e.Message);

        using var rank4 = Tensor.Zeros([1, 3, 4, 4]);
        Assert.Contains("[1, 3, 4, 4]", Assert.Throws<KilnShapeException>(() => writer.AddImage("x", rank4)).Message);

        using var empty = Tensor.Zeros([3, 0, 4]);
        Assert.Contains("[3, 0, 4]", Assert.Throws<KilnShapeException>(() => writer.AddImage("x", empty)).Message);

        using var ints = Tensor.From([1, 2, 3, 4], 2, 2);
        Assert.Contains("int32", Assert.Throws<ArgumentException>(() => writer.AddImage("x", ints, dataFormats: "HW")).Message);

        using var ok = Tensor.Zeros([3, 2, 2]);
        Assert.Contains("NCHW", Assert.Throws<ArgumentException>(() => writer.AddImage("x", ok, dataFormats: "NCHW")).Message);
    }
}
