//! A bullet comment (弹幕) as bilibili models it: a moment of the video, a mode, a size, a
//! colour, the text, and who sent it (shown only as a per-video pseudonym).

use chrono::{DateTime, Utc};

use crate::ids::{DanmakuId, UserId, VideoId};

/// How a bullet comment moves across the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Right to left, the usual kind.
    Scroll,
    /// Fixed at the top.
    Top,
    /// Fixed at the bottom.
    Bottom,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Scroll, Mode::Top, Mode::Bottom];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Scroll => "scroll",
            Mode::Top => "top",
            Mode::Bottom => "bottom",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// bilibili's number for it (its XML and players read these).
    pub fn bilibili(self) -> i16 {
        match self {
            Mode::Scroll => 1,
            Mode::Bottom => 4,
            Mode::Top => 5,
        }
    }

    pub fn from_bilibili(n: i16) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.bilibili() == n)
    }
}

/// The font size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    Small,
    Normal,
    Large,
}

impl Size {
    pub const ALL: [Size; 3] = [Size::Small, Size::Normal, Size::Large];

    pub fn as_str(self) -> &'static str {
        match self {
            Size::Small => "small",
            Size::Normal => "normal",
            Size::Large => "large",
        }
    }

    pub fn parse(s: &str) -> Option<Size> {
        Size::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// bilibili's font size in pixels.
    pub fn bilibili(self) -> i16 {
        match self {
            Size::Small => 18,
            Size::Normal => 25,
            Size::Large => 36,
        }
    }

    pub fn from_bilibili(n: i16) -> Option<Size> {
        Size::ALL.into_iter().find(|m| m.bilibili() == n)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Danmaku {
    pub id: DanmakuId,
    pub video_id: VideoId,
    /// The moment of the video it belongs to.
    pub t_ms: u64,
    pub mode: Mode,
    /// 24-bit RGB.
    pub color: u32,
    pub size: Size,
    /// 1 to 100 characters, as sent.
    pub text: String,
    pub sender: UserId,
    pub created_at: DateTime<Utc>,
    /// Hidden by the video's owner: never shown again.
    pub hidden: bool,
}
