package dev.rafter.plot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** The PNG writer's files decode (with ImageIO's reader) to the very pixels drawn. */
class PngEncoderTest {
    @Test
    void aDrawingDecodesToTheSamePixels() throws Exception {
        byte[] png = StudyCharts.png(97, 61, c -> {
            c.rect(3, 4, 50, 20, new Color(0xd6, 0x27, 0x28), Color.BLACK, 1);
            c.line(0, 60, 96, 0, new Color(0x1f, 0x77, 0xb4), 2, true);
            c.circle(70, 40, 12, new Color(0x2c, 0xa0, 0x2c), null, 0);
            c.text(10, 50, "latency", 11, Canvas.Anchor.START, false, Color.DARK_GRAY, false);
        });
        PngCanvas again = new PngCanvas(97, 61);
        again.rect(3, 4, 50, 20, new Color(0xd6, 0x27, 0x28), Color.BLACK, 1);
        again.line(0, 60, 96, 0, new Color(0x1f, 0x77, 0xb4), 2, true);
        again.circle(70, 40, 12, new Color(0x2c, 0xa0, 0x2c), null, 0);
        again.text(10, 50, "latency", 11, Canvas.Anchor.START, false, Color.DARK_GRAY, false);
        BufferedImage drawn = again.finish();
        BufferedImage read = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(97, read.getWidth());
        assertEquals(61, read.getHeight());
        assertArrayEquals(drawn.getRGB(0, 0, 97, 61, null, 0, 97), read.getRGB(0, 0, 97, 61, null, 0, 97));
    }

    @Test
    void anyImageTypeIsWrittenAsRgb() throws Exception {
        BufferedImage argb = new BufferedImage(5, 3, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 5; x++) {
                argb.setRGB(x, y, 0xff000000 | (x * 50) << 16 | (y * 80) << 8 | (x + y) * 20);
            }
        }
        BufferedImage read = ImageIO.read(new ByteArrayInputStream(PngEncoder.encode(argb)));
        assertArrayEquals(argb.getRGB(0, 0, 5, 3, null, 0, 5), read.getRGB(0, 0, 5, 3, null, 0, 5));
    }
}
