/// The index.html of a render folder: the inspect summary, then sections of figures (images in
/// the same folder, referenced by file name).
public struct HTMLPage {
    public struct Figure {
        public let file: String
        public let caption: String
        public init(file: String, caption: String) { self.file = file; self.caption = caption }
    }

    public let title: String
    public let summary: String
    public var sections: [(heading: String, note: String, figures: [Figure])] = []

    public init(title: String, summary: String) {
        self.title = title
        self.summary = summary
    }

    public var html: String {
        var s = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(xmlEscape(title))</title>
            <style>
            body { font-family: sans-serif; margin: 1.5em; color: #222; }
            pre { background: #f4f4f4; padding: 0.8em; overflow-x: auto; font-size: 12px; }
            figure { display: inline-block; margin: 0.4em 1em 1em 0; vertical-align: top; }
            figcaption { font-size: 12px; max-width: 640px; }
            img { image-rendering: pixelated; border: 1px solid #ccc; }
            </style></head><body>
            <h1>\(xmlEscape(title))</h1>
            <h2>Summary</h2>
            <pre>\(xmlEscape(summary))</pre>

            """
        for section in sections {
            s += "<h2>\(xmlEscape(section.heading))</h2>\n"
            if !section.note.isEmpty { s += "<p>\(xmlEscape(section.note))</p>\n" }
            for f in section.figures {
                s += "<figure><img src=\"\(xmlEscape(f.file))\" alt=\"\(xmlEscape(f.caption))\"><figcaption>\(xmlEscape(f.caption))</figcaption></figure>\n"
            }
        }
        return s + "</body></html>\n"
    }
}
