//! Inline buttons: a message sent with an inline keyboard, and a pressed button
//! (`callback_query`) handed to the sink's [`InboundSink::press`], answered with
//! `answerCallbackQuery` (the sink's text) and its keyboard removed so it is pressed once.

use std::sync::Arc;
use std::time::Duration;

use openclaw_core::channel::{Button, ButtonPress, InboundSink, Sender};

use super::api::{
    AnswerCallbackQuery, BotApi, CallbackQuery, EditMessageReplyMarkup, InlineKeyboardButton,
    InlineKeyboardMarkup,
};

const PRESS_TIMEOUT: Duration = Duration::from_secs(15);

/// The keyboard for `rows`.
pub(super) fn keyboard(rows: &[Vec<Button>]) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup {
        inline_keyboard: rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|b| InlineKeyboardButton {
                        text: b.text.clone(),
                        callback_data: b.data.clone(),
                    })
                    .collect()
            })
            .collect(),
    }
}

/// Handles one pressed button: the sink decides, Telegram shows the answer, the keyboard goes.
pub(super) async fn pressed(
    api: &BotApi,
    account_id: &str,
    sink: &Arc<dyn InboundSink>,
    q: CallbackQuery,
) {
    let chat_id = q.message.as_ref().map(|m| m.chat.id.to_string());
    let answer = match (&q.data, &chat_id) {
        (Some(data), Some(chat_id)) => {
            let press = ButtonPress {
                channel: "telegram".into(),
                account_id: account_id.to_owned(),
                sender: Sender {
                    id: q.from.id.to_string(),
                    username: q.from.username.clone(),
                    first_name: q.from.first_name.clone(),
                    last_name: q.from.last_name.clone(),
                    is_bot: q.from.is_bot,
                },
                chat_id: chat_id.clone(),
                message_id: q.message.as_ref().map(|m| m.message_id.to_string()),
                data: data.clone(),
            };
            sink.press(press).await
        }
        _ => "This button has expired.".to_owned(),
    };
    // Telegram shows at most 200 characters.
    let text: String = answer.chars().take(200).collect();
    let req = AnswerCallbackQuery {
        callback_query_id: &q.id,
        text: &text,
    };
    if let Err(e) = api
        .call::<_, bool>("answerCallbackQuery", &req, PRESS_TIMEOUT)
        .await
    {
        tracing::warn!("telegram {account_id}: answerCallbackQuery: {e}");
    }
    if let (Some(m), Some(chat_id)) = (&q.message, &chat_id) {
        let req = EditMessageReplyMarkup {
            chat_id,
            message_id: m.message_id,
            reply_markup: InlineKeyboardMarkup {
                inline_keyboard: Vec::new(),
            },
        };
        // The keyboard stays when this fails; a second press is answered "already resolved".
        let _ = api
            .call::<_, serde_json::Value>("editMessageReplyMarkup", &req, PRESS_TIMEOUT)
            .await;
    }
}
