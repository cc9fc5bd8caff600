#include "testfiles.h"

#include <QBuffer>
#include <QImage>
#include <QImageWriter>
#include <QtGlobal>

namespace TestFiles {

QByteArray pdf(const QStringList &pages)
{
    // Objects: 1 catalog, 2 pages, 3 font, then a page and its content stream per page.
    QList<QByteArray> objects;
    QByteArray kids;
    for (int i = 0; i < pages.size(); ++i)
        kids += QByteArray::number(4 + 2 * i) + " 0 R ";
    objects.append("<< /Type /Catalog /Pages 2 0 R >>");
    objects.append("<< /Type /Pages /Kids [" + kids.trimmed() + "] /Count " +
                   QByteArray::number(pages.size()) + " >>");
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
    for (int i = 0; i < pages.size(); ++i) {
        QByteArray text = pages.at(i).toLatin1();
        text.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)");
        const QByteArray stream = "BT /F1 14 Tf 72 720 Td (" + text + ") Tj ET";
        objects.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R "
            ">> >> /Contents " +
            QByteArray::number(5 + 2 * i) + " 0 R >>");
        objects.append("<< /Length " + QByteArray::number(stream.size()) + " >>\nstream\n" + stream +
                       "\nendstream");
    }
    QByteArray out = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
    QList<qsizetype> offsets;
    for (int i = 0; i < objects.size(); ++i) {
        offsets.append(out.size());
        out += QByteArray::number(i + 1) + " 0 obj\n" + objects.at(i) + "\nendobj\n";
    }
    const qsizetype xref = out.size();
    out += "xref\n0 " + QByteArray::number(objects.size() + 1) + "\n0000000000 65535 f \n";
    for (const qsizetype offset : offsets)
        out += QByteArray::number(offset).rightJustified(10, '0') + " 00000 n \n";
    out += "trailer\n<< /Size " + QByteArray::number(objects.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
           QByteArray::number(xref) + "\n%%EOF\n";
    return out;
}

QByteArray image(int width, int height, const char *format, bool alpha, const QColor &color)
{
    if (qstrcmp(format, "gif") == 0) {
        // Qt writes no GIF: a 1 x 1 red one, byte by byte.
        static const char gif[] = "GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\x00\x00\x00\x00\x00"
                                  "!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00"
                                  "\x02\x02D\x01\x00;";
        return QByteArray(gif, sizeof gif - 1);
    }
    QImage picture(width, height, alpha ? QImage::Format_ARGB32 : QImage::Format_RGB32);
    picture.fill(color);
    // A pattern, so encoders cannot make it tiny and a scaled copy is still an image of something.
    for (int y = 0; y < height; y += 8)
        for (int x = (y / 8 % 2) * 8; x < width; x += 16)
            picture.setPixelColor(x, y, Qt::white);
    if (alpha)
        picture.setPixelColor(0, 0, Qt::transparent);
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    QImageWriter writer(&buffer, format);
    writer.write(picture);
    return bytes;
}

QByteArray animatedGif()
{
    // Two 1 x 1 frames (black, white) that loop, as a GIF encoder writes them.
    const QByteArray frame("!\xf9\x04\x00\x0a\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02", 20);
    QByteArray gif("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff", 19);
    gif += QByteArray("!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00", 19);
    gif += frame + QByteArray("D\x01\x00", 3); // pixel 0
    gif += frame + QByteArray("L\x01\x00", 3); // pixel 1
    return gif + ';';
}

QByteArray withOrientation(const QByteArray &jpeg, int orientation)
{
    // An APP1 Exif segment after the start marker: one IFD entry, Orientation (0x0112), a SHORT.
    QByteArray tiff("MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01", 18);
    tiff += char(0);
    tiff += char(orientation);
    tiff += QByteArray(2, '\0') + QByteArray(4, '\0'); // padding, no next IFD
    const QByteArray payload = QByteArray("Exif\0\0", 6) + tiff;
    QByteArray segment("\xff\xe1", 2);
    segment += char((payload.size() + 2) >> 8);
    segment += char((payload.size() + 2) & 0xff);
    return jpeg.left(2) + segment + payload + jpeg.mid(2);
}

} // namespace TestFiles
