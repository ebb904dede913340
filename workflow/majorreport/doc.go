// Package majorreport reads the report owed after a major incident.
//
// # What the report is
//
// In ITIL a major incident is one whose impact is so high (the mail server
// down for everyone, the ERP unreachable) that it is handled by its own
// procedure; once service is restored, the party responsible for the
// service writes a post-incident report for the major incident review
// (also called post-incident review or PIR): what happened, why, how it
// was fixed and what stops it happening again. helpdeskd asks that party
// for the report by email when a major incident is resolved; this package
// reads what comes back, either the new text of the reply or an attached
// PDF or DOCX, and says which required sections are there. It is pure:
// no database, configuration or I/O beyond the bytes given to it.
//
// # Sections
//
// The required sections are configured (`[major] sections`, default
// [DefaultSections]: "what happened", "cause", "fix", "prevention"). Each
// known name brings its synonyms, in English and German, compared after
// folding case, umlauts and ß ("Maßnahmen" = "massnahmen"), hyphens and
// spaces:
//
//   - what happened: summary, incident summary, description, overview, Was
//     ist passiert, Zusammenfassung, Beschreibung, Sachverhalt
//   - cause: root cause, root-cause analysis, RCA, reason, why, Ursache,
//     Grundursache, Ursachenanalyse
//   - fix: resolution, solution, remediation, how it was fixed, workaround
//     (applied), recovery, Lösung, Behebung, Sofortmaßnahmen
//   - prevention: lessons learned, preventive/preventative actions or
//     measures, corrective actions, follow-up actions, next steps,
//     Vorbeugung, Prävention, Maßnahmen, vorbeugende Maßnahmen
//
// and the optional ones, reported when present and required only when
// configured: impact (impact window, duration, Zeitraum, Auswirkung),
// users affected (affected users, Betroffene) and actions (action items,
// Maßnahmenplan), whose list items become [Action] values with owner and
// due date. The full lists are in synonyms (parse.go). "Impact" is its
// own section, not "what happened": a report need not give a window. A
// workaround counts as the fix: it is how service came back. A configured
// name that is none of these matches itself only; a second configured
// name for the same section (both "fix" and "resolution") also matches
// itself only.
//
// # Tolerance rules
//
// A heading is recognised
//
//   - on its own line, or inline with a colon or a dash ("Cause: the
//     switch…", "**Root cause** the switch…", "cause - the switch");
//   - numbered "1.", "1)", "(1)", "2.1", "I.", "IV)", "a)";
//   - bold as Markdown "**x**" or "__x__", or "*x*" as mailparse's
//     HTML-to-text conversion (github.com/inbucket/html2text) writes <b>
//     and <strong>; as a Markdown "#" heading; underlined with === or ---,
//     or framed by rules as html2text writes <h1> and <h2>;
//   - with or without a trailing colon or question mark, with a trailing
//     parenthesis ("Root cause (RCA)") and in any case;
//   - as a table-of-contents entry with a dot leader and page number, which
//     opens an empty section and so adds nothing.
//
// An inline heading counts only at the start of a paragraph or right after
// another heading, so "Reason: …" in the middle of a paragraph stays text;
// a line that only starts with a heading word ("Fixing the switch took an
// hour.") is text. Text before the first heading is the preamble. A
// heading that appears twice has its texts joined. A heading with nothing
// under it, or only a placeholder ("TBD", "n/a", "to follow", "folgt",
// "-"), leaves its section missing. A bold, "#" or underlined line that
// names no known section (such as "Timeline") ends the section before it
// and its text goes to Report.Other; directly under a known heading it is
// a subheading and stays in that section. Quoted history and signatures
// must have been removed (mailparse's NewText), which also makes a report
// pasted under a quoted request the new text.
//
// # Documents
//
// DOCX (ECMA-376): the paragraphs of word/document.xml, read as a stream
// with archive/zip and encoding/xml; heading styles become "# " lines,
// list paragraphs "- " items, table rows "| a | b |" lines. PDF (ISO
// 32000-1): github.com/ledongthuc/pdf parses objects, streams, fonts and
// encodings; the text state is this package's own (pdftext.go), because
// the library's Page.Content turns the end of every TJ into a letter of
// subset fonts and ignores word spacing. Checked on PDFs written by groff
// (gropdf), Ghostscript and LibreOffice. Not read: scanned PDFs (no text
// layer, ErrNoText), encrypted PDFs, text in form XObjects or Type3 fonts,
// legacy .doc and .odt (ErrUnsupported); PDF table cells come out as
// space-separated words.
//
// # Limits
//
// Parse reads at most MaxTextBytes (1 MiB) and runs in time linear in its
// input (an inline heading's separator must stand within the first 64
// bytes of its line). A document may be at most MaxDocumentBytes (20 MiB);
// a DOCX whose word/document.xml declares or inflates past
// MaxDOCXXMLBytes (32 MiB) is refused with ErrTooLarge (archive/zip
// itself refuses data past the declared size); a PDF is read for at most
// MaxPDFPages (50) pages and 200,000 text operations a page, a page's
// content stream and a font's ToUnicode map are inflated at most
// MaxPDFStreamBytes (8 MiB) before they are read, and a file declaring
// more than 2,097,152 objects (an xref stream's /Size, /Index, /W) or a
// predictor row of more than 65,536 bytes is refused before the library
// sizes its tables by them (ErrTooLarge). A panic in the PDF library on
// a malformed file becomes ErrMalformed. These bounds do not make the
// PDF library safe against every hostile file (some recurse without end
// or allocate by paths no scan sees): the daemon calls DocumentText only
// in a bounded child process (internal/extract).
package majorreport
