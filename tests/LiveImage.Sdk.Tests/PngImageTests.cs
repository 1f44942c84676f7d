using System.Buffers.Binary;
using System.IO.Compression;

namespace LiveImage.Sdk.Tests;

/// <summary>The screenshot reader the GNOME test relies on: it must see what is really in the PNG.</summary>
public sealed class PngImageTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"liveimage-png-{Guid.NewGuid():N}.png");

    public void Dispose() => File.Delete(_file);

    [Fact]
    public void A_flat_screen_has_one_colour_covering_it_all()
    {
        File.WriteAllBytes(_file, Png(1280, 800, (_, _) => (0, 0, 0), filter: 0));
        var image = PngImage.Read(_file);
        Assert.Equal((1280, 800, 1), (image.Width, image.Height, image.DistinctColours));
        Assert.Equal(1.0, image.DominantShare);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Every_row_filter_decodes_to_the_same_pixels(byte filter)
    {
        // a dark background with a 10x10 block of a 100-step gradient in one corner
        File.WriteAllBytes(_file, Png(40, 30, (x, y) => x < 10 && y < 10 ? ((byte)(x * 10 + y), (byte)200, (byte)50) : ((byte)30, (byte)30, (byte)30), filter));
        var image = PngImage.Read(_file);
        Assert.Equal((40, 30), (image.Width, image.Height));
        Assert.Equal(101, image.DistinctColours);
        Assert.Equal((40 * 30 - 100) / (40.0 * 30), image.DominantShare, precision: 6);
    }

    [Fact]
    public void A_file_that_is_not_a_png_is_refused()
    {
        File.WriteAllText(_file, "P6\n720 400\n255\n");
        Assert.Throws<InvalidDataException>(() => PngImage.Read(_file));
    }

    /// <summary>An 8-bit RGB PNG, every row written with the given filter (CRCs left zero: the reader does not check them).</summary>
    private static byte[] Png(int width, int height, Func<int, int, (byte R, byte G, byte B)> pixel, byte filter)
    {
        var stride = width * 3;
        var previous = new byte[stride];
        using var raw = new MemoryStream();
        for (var y = 0; y < height; y++)
        {
            var row = new byte[stride];
            for (var x = 0; x < width; x++) (row[x * 3], row[x * 3 + 1], row[x * 3 + 2]) = pixel(x, y);
            raw.WriteByte(filter);
            for (var i = 0; i < stride; i++)
            {
                int left = i >= 3 ? row[i - 3] : 0, up = previous[i], upLeft = i >= 3 ? previous[i - 3] : 0;
                int predicted = filter switch
                {
                    1 => left,
                    2 => up,
                    3 => (left + up) / 2,
                    4 => Paeth(left, up, upLeft),
                    _ => 0,
                };
                raw.WriteByte((byte)(row[i] - predicted));
            }
            previous = row;
        }
        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) raw.WriteTo(z);

        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)height);
        header[8] = 8;
        header[9] = 2;
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(length, (uint)data.Length);
        png.Write(length);
        png.Write(System.Text.Encoding.ASCII.GetBytes(type));
        png.Write(data);
        png.Write(new byte[4]);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
