#pragma once

#include <QByteArray>
#include <QColor>
#include <QStringList>

// Files the tests make for themselves, so no binary fixture is checked in: a PDF written by hand
// (the tests read its text back through Poppler), images in each format the models take.
namespace TestFiles {
// A PDF of one page per string (ASCII text in Helvetica), with a valid cross-reference table.
QByteArray pdf(const QStringList &pages);
// An image of `width` x `height` in `format` ("png", "jpeg", "webp"; "gif" is always 1 x 1);
// `alpha` leaves the corner transparent (PNG, WebP).
QByteArray image(int width, int height, const char *format = "png", bool alpha = false,
                 const QColor &color = QColor(200, 40, 40));
// A looping GIF of two 1 x 1 frames.
QByteArray animatedGif();
// `jpeg` with an Exif orientation (6: to be turned a quarter clockwise, as phones save photos).
QByteArray withOrientation(const QByteArray &jpeg, int orientation);
} // namespace TestFiles
