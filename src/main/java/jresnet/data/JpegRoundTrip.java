package jresnet.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Images sent through a lossy JPEG and back, to measure what the JPEG rebuild of test records
 * 1000-9999 costs (the data folder's SOURCE.md): the exact records 0-999, re-encoded the same way,
 * give the accuracy those records would have had as JPEGs. The JDK's encoder writes baseline JPEG
 * with the IJG tables scaled to the quality and YCbCr 4:2:0 chroma, as those files were written;
 * its decoder is not the Pillow build that decoded them, so the pixels differ slightly, and
 * {@link #distortion} says how close the result is to SOURCE.md's measured loss.
 */
public final class JpegRoundTrip {
    private static final int PLANE = Dataset.HEIGHT * Dataset.WIDTH;

    /**
     * Mean absolute error (levels of 0..255, per channel value), largest error, and PSNR (dB) two ways: from
     * the mean squared error of all values together, and the mean of each image's own PSNR (higher, as
     * the logarithm weighs the best images most; images that came back unchanged are left out of it, and
     * it is NaN when all did). Loss measurements are quoted either way, so both are given.
     */
    public record Distortion(double meanAbsoluteError, int maxError, double psnrDb, double meanImagePsnrDb) {
        /** In words, as evaluate prints it. */
        public String describe() {
            String psnr = Double.isNaN(meanImagePsnrDb) ? "no PSNR (every image came back unchanged)"
                    : String.format(Locale.ROOT, "PSNR %.1f dB over all values, %.1f dB on average per image", psnrDb, meanImagePsnrDb);
            return String.format(Locale.ROOT, "images differ by %.2f levels on average (largest %d), %s", meanAbsoluteError, maxError, psnr);
        }
    }

    private JpegRoundTrip() {}

    /** Every image of {@code data} encoded at {@code quality} (1..100, IJG scale) and decoded. */
    public static Dataset apply(Dataset data, int quality) {
        if (quality < 1 || quality > 100) throw new IllegalArgumentException("JPEG quality " + quality + " is not in 1..100");
        return data.withImages(i -> roundTrip(data.imageBytes(i), quality));
    }

    public static Distortion distortion(Dataset original, Dataset reencoded) {
        long absSum = 0, squareSum = 0, values = 0;
        int max = 0, changedImages = 0;
        double imagePsnrSum = 0;
        for (int i = 0; i < original.size(); i++) {
            byte[] a = original.imageBytes(i), b = reencoded.imageBytes(i);
            long imageSquareSum = 0;
            for (int p = 0; p < a.length; p++) {
                int d = Math.abs((a[p] & 0xFF) - (b[p] & 0xFF));
                absSum += d;
                imageSquareSum += (long) d * d;
                max = Math.max(max, d);
            }
            if (imageSquareSum > 0) {
                imagePsnrSum += psnr((double) imageSquareSum / a.length);
                changedImages++;
            }
            squareSum += imageSquareSum;
            values += a.length;
        }
        return new Distortion((double) absSum / values, max, psnr((double) squareSum / values),
                changedImages == 0 ? Double.NaN : imagePsnrSum / changedImages);
    }

    private static double psnr(double meanSquaredError) {
        return 10 * Math.log10(255.0 * 255.0 / meanSquaredError);
    }

    private static byte[] roundTrip(byte[] planar, int quality) {
        BufferedImage image = new BufferedImage(Dataset.WIDTH, Dataset.HEIGHT, BufferedImage.TYPE_INT_RGB);
        for (int p = 0; p < PLANE; p++) {
            int rgb = (planar[p] & 0xFF) << 16 | (planar[PLANE + p] & 0xFF) << 8 | planar[2 * PLANE + p] & 0xFF;
            image.setRGB(p % Dataset.WIDTH, p / Dataset.WIDTH, rgb);
        }
        try {
            BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(encode(image, quality)));
            byte[] out = new byte[Dataset.IMAGE_BYTES];
            for (int p = 0; p < PLANE; p++) {
                int rgb = decoded.getRGB(p % Dataset.WIDTH, p / Dataset.WIDTH);
                out[p] = (byte) (rgb >> 16);
                out[PLANE + p] = (byte) (rgb >> 8);
                out[2 * PLANE + p] = (byte) rgb;
            }
            return out;
        } catch (IOException inMemory) {
            throw new UncheckedIOException("JPEG round trip in memory failed", inMemory);
        }
    }

    private static byte[] encode(BufferedImage image, int quality) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(stream);
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            // the JDK maps 0.75 to the IJG tables at quality 75 (the same linear scaling libjpeg uses)
            param.setCompressionQuality(quality / 100f);
            writer.write(null, new IIOImage(image, null, null), param);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }
}
