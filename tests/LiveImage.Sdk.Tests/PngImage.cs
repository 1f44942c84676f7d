using System.Buffers.Binary;
using System.IO.Compression;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// Just enough of a PNG reader to tell what a qemu screendump shows: its size (the IHDR chunk) and,
/// for the 8-bit truecolour images qemu writes, how many distinct colours it has and how much of it
/// is the most common one. A text console is 720x400 with a handful of colours; a graphical login
/// screen is at least 800 pixels wide, with the antialiased text and icons of a desktop.
/// </summary>
internal sealed record PngImage(int Width, int Height, int BitDepth, int ColorType, int DistinctColours, double DominantShare)
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static PngImage Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 33 || !bytes.AsSpan(0, 8).SequenceEqual(Signature)) throw new InvalidDataException($"{path} is not a PNG file");
        int width = 0, height = 0, depth = 0, colorType = 0, interlace = 0;
        using var idat = new MemoryStream();
        for (var at = 8; at + 12 <= bytes.Length;)
        {
            var length = checked((int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at)));
            var type = System.Text.Encoding.ASCII.GetString(bytes, at + 4, 4);
            var data = bytes.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                width = checked((int)BinaryPrimitives.ReadUInt32BigEndian(data));
                height = checked((int)BinaryPrimitives.ReadUInt32BigEndian(data[4..]));
                depth = data[8];
                colorType = data[9];
                interlace = data[12];
            }
            else if (type == "IDAT") idat.Write(data);
            else if (type == "IEND") break;
            at += 12 + length;
        }
        if (width == 0) throw new InvalidDataException($"{path} has no IHDR chunk");
        var channels = colorType switch { 2 => 3, 6 => 4, _ => 0 };
        if (depth != 8 || channels == 0 || interlace != 0)
            return new PngImage(width, height, depth, colorType, DistinctColours: -1, DominantShare: double.NaN); // not what qemu writes: size only

        var stride = width * channels;
        var raw = new byte[(stride + 1) * height];
        idat.Position = 0;
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.ReadExactly(raw);
        var previous = new byte[stride];
        var row = new byte[stride];
        var counts = new Dictionary<int, int>();
        for (var y = 0; y < height; y++)
        {
            var filter = raw[y * (stride + 1)];
            Array.Copy(raw, y * (stride + 1) + 1, row, 0, stride);
            for (var i = 0; i < stride; i++)
            {
                int left = i >= channels ? row[i - channels] : 0, up = previous[i], upLeft = i >= channels ? previous[i - channels] : 0;
                row[i] = (byte)(row[i] + filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => (left + up) / 2,
                    4 => Paeth(left, up, upLeft),
                    _ => throw new InvalidDataException($"{path}: unknown PNG filter {filter} in row {y}"),
                });
            }
            for (var x = 0; x < width; x++)
            {
                var colour = (row[x * channels] << 16) | (row[x * channels + 1] << 8) | row[x * channels + 2];
                counts[colour] = counts.GetValueOrDefault(colour) + 1;
            }
            (previous, row) = (row, previous);
        }
        return new PngImage(width, height, depth, colorType, counts.Count, (double)counts.Values.Max() / ((long)width * height));
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    public override string ToString() =>
        $"{Width}x{Height} (bit depth {BitDepth}, colour type {ColorType}), {DistinctColours} colours, the commonest covering {DominantShare:P0}";
}
