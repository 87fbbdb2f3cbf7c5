namespace Kiln.Data;

/// <summary>The order of an image's dimensions: height, width, channels (as decoders and NumPy give) or channels first (as models take).</summary>
public enum ImageLayout
{
    /// <summary>[height, width, channels]; a 2-D [height, width] image has one channel.</summary>
    Hwc,

    /// <summary>[channels, height, width].</summary>
    Chw,
}
