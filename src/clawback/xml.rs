//! A small XML reader for the two Azure Queue documents we receive: `<QueueMessagesList>` and
//! `<Error>`. Both are two levels of elements holding text, so a tiny tree builder is enough;
//! it is strict about structure (unbalanced tags, unknown entities and deep nesting are errors)
//! and ignores what the protocol does not use (attributes, comments, the XML declaration).
//! Written here instead of pulling in an XML crate: the format is tiny and fixed.

/// One element: its name, its direct text (entities decoded, CDATA kept) and its children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The text of the first child called `name` (ASCII case-insensitive).
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.children
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .map(|c| c.text.as_str())
    }
}

/// Deeper documents are refused (ours are 3 levels deep).
const MAX_DEPTH: usize = 16;

/// Parses a document with a single root element.
pub(crate) fn parse(doc: &str) -> Result<Element, String> {
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut rest = doc.trim_start_matches('\u{feff}');
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            text(&mut stack, rest)?;
            break;
        };
        text(&mut stack, &rest[..lt])?;
        rest = &rest[lt..];
        if let Some(r) = rest.strip_prefix("<?") {
            rest = after(r, "?>")?;
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = after(r, "-->")?;
        } else if let Some(r) = rest.strip_prefix("<![CDATA[") {
            let end = r.find("]]>").ok_or("unterminated CDATA section")?;
            let top = stack.last_mut().ok_or("CDATA outside the root element")?;
            top.text.push_str(&r[..end]);
            rest = &r[end + 3..];
        } else if rest.starts_with("<!") {
            return Err("DOCTYPE and other declarations are not accepted".into());
        } else if let Some(r) = rest.strip_prefix("</") {
            let end = r.find('>').ok_or("unterminated end tag")?;
            let name = r[..end].trim();
            let el = stack.pop().ok_or("end tag without a start tag")?;
            if el.name != name {
                return Err(format!("</{name}> closes <{}>", el.name));
            }
            close(&mut stack, &mut root, el)?;
            rest = &r[end + 1..];
        } else {
            let r = &rest[1..];
            let end = r.find('>').ok_or("unterminated start tag")?;
            let inner = &r[..end];
            let (inner, empty) = match inner.strip_suffix('/') {
                Some(i) => (i, true),
                None => (inner, false),
            };
            let name = inner
                .split(|c: char| c.is_ascii_whitespace())
                .next()
                .unwrap_or("");
            let starts_ok = name
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_');
            if !starts_ok || !name.chars().all(name_char) {
                return Err(format!("invalid element name '{name}'"));
            }
            if root.is_some() {
                return Err("content after the root element".into());
            }
            if stack.len() >= MAX_DEPTH {
                return Err("the document is nested too deeply".into());
            }
            let el = Element {
                name: name.to_string(),
                ..Element::default()
            };
            if empty {
                close(&mut stack, &mut root, el)?;
            } else {
                stack.push(el);
            }
            rest = &r[end + 1..];
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("<{}> is never closed", open.name));
    }
    root.ok_or_else(|| "no root element".to_string())
}

fn name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

fn after<'a>(s: &'a str, end: &str) -> Result<&'a str, String> {
    s.find(end)
        .map(|i| &s[i + end.len()..])
        .ok_or_else(|| format!("missing '{end}'"))
}

fn close(stack: &mut [Element], root: &mut Option<Element>, el: Element) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
    Ok(())
}

/// Adds character data to the open element; whitespace outside elements is allowed.
fn text(stack: &mut [Element], raw: &str) -> Result<(), String> {
    if raw.is_empty() {
        return Ok(());
    }
    match stack.last_mut() {
        Some(top) => {
            top.text.push_str(&unescape(raw)?);
            Ok(())
        }
        None if raw.trim().is_empty() => Ok(()),
        None => Err("text outside the root element".into()),
    }
}

/// Decodes the five predefined entities and numeric character references.
pub(crate) fn unescape(s: &str) -> Result<String, String> {
    if !s.contains('&') {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let r = &rest[i + 1..];
        let end = r
            .find(';')
            .filter(|e| *e <= 10)
            .ok_or("unterminated entity")?;
        let ent = &r[..end];
        let ch = match ent {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(h) = ent.strip_prefix("#x").or(ent.strip_prefix("#X")) {
                    u32::from_str_radix(h, 16).ok()
                } else if let Some(d) = ent.strip_prefix('#') {
                    d.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown entity '&{ent};'"))?
            }
        };
        out.push(ch);
        rest = &r[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Escapes text for an element body (the round-trip test writes XML with it; the emulator has
/// its own copy).
#[cfg(test)]
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_list_with_declaration_and_entities() {
        let doc = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<QueueMessagesList>\
            <QueueMessage><MessageId>a</MessageId><PopReceipt>AgAA+/x=&#x41;&amp;</PopReceipt>\
            <MessageText><![CDATA[e30=]]></MessageText><Empty/></QueueMessage>\
            <!-- c --><QueueMessage attr=\"1\"><MessageId>b</MessageId></QueueMessage></QueueMessagesList>\n";
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "QueueMessagesList");
        assert_eq!(root.children.len(), 2);
        let m = &root.children[0];
        assert_eq!(m.child_text("MessageId"), Some("a"));
        assert_eq!(m.child_text("popreceipt"), Some("AgAA+/x=A&"));
        assert_eq!(m.child_text("MessageText"), Some("e30="));
        assert_eq!(m.child_text("Empty"), Some(""));
        assert_eq!(root.children[1].child_text("MessageId"), Some("b"));
    }

    #[test]
    fn empty_list_forms() {
        assert!(parse("<QueueMessagesList/>").unwrap().children.is_empty());
        assert!(parse("<QueueMessagesList></QueueMessagesList>")
            .unwrap()
            .children
            .is_empty());
    }

    #[test]
    fn malformed_documents_are_errors() {
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "</a>",
            "<a>&bogus;</a>",
            "<a>&amp</a>",
            "<a/><b/>",
            "text",
            "<!DOCTYPE x><a/>",
            "<a><![CDATA[x</a>",
            "<1a/>",
            "<a>".repeat(40).as_str(),
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn escape_round_trips() {
        let s = "a<b>&\"c'd";
        assert_eq!(unescape(&escape(s)).unwrap(), s);
    }
}
